"""How long long work will take on this machine, from what it measured here before.

A command that trains for an hour or scores seventy thousand pairs should say so before it
starts, not after the first progress-bar refresh. No formula predicts a machine's speed (cores,
memory bandwidth, other work, the allocator), so antlm measures instead: every training session
and every evaluation records its wall-clock rate (tokens or pairs per second, everything
included: dev losses, checkpoints, tokenization) under a key that names the work and the
machine's side of it (model size, precision, batch shape, device, threads), and the next command
with the same key prints an estimate from it. Work never measured here gets a first estimate
from its own start instead: an evaluation times a small probe of its pairs before it begins, and
training, whose first steps cannot be rehearsed without touching the run's random state, prints
the estimate once its first :data:`FIRST_STEPS` steps are done.

The rates live in ``speeds.json`` in antlm's cache folder (``ANTLM_CACHE_DIR``, else
``~/.cache/antlm``), one machine's own; deleting it only loses the estimates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import torch

from antlm.atomic import atomic_write_bytes
from antlm.data.cache import default_cache_dir

SPEEDS_FILE = "speeds.json"
FIRST_STEPS = 5  # training steps timed for the first estimate of work never measured here

# A probe: does a small, representative part of the work and returns (units done, seconds).
Probe = Callable[[], tuple[float, float]]


@dataclass(frozen=True)
class Workload:
    """One kind of work on one machine: ``key`` names both, ``unit`` what is counted."""

    key: str
    unit: str  # "tokens", "pairs"


def machine(device: str | torch.device) -> str:
    """The machine's side of a key: the device (with its name for a GPU) and the CPU threads."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}"
    return f"cpu, {torch.get_num_threads()} threads"


def _path(cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / SPEEDS_FILE


def _read(cache_dir: Path | None) -> dict[str, dict[str, object]]:
    """The recorded rates; an unreadable file is treated as none (it only holds estimates)."""
    try:
        value = json.loads(_path(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def record_speed(work: Workload, amount: float, seconds: float,
                 cache_dir: Path | None = None) -> None:
    """Remember ``amount`` units done in ``seconds`` of wall clock as this workload's rate.
    Work shorter than a few seconds says little about the rate of a long run: not recorded."""
    if seconds < 5 or amount <= 0:
        return
    speeds = _read(cache_dir)
    speeds[work.key] = {"rate": amount / seconds, "unit": work.unit,
                        "measured": date.today().isoformat()}
    try:
        atomic_write_bytes(_path(cache_dir), json.dumps(speeds, indent=1).encode())
    except OSError:  # a read-only cache costs the next estimate, never the work
        pass


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.4 h``: as precise as an estimate deserves."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def recorded_rate(work: Workload, cache_dir: Path | None = None) -> tuple[float, str] | None:
    """The rate measured here for ``work`` and the date it was measured, or None."""
    entry = _read(cache_dir).get(work.key)
    rate = entry.get("rate") if isinstance(entry, dict) else None
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
        return None
    return float(rate), str(entry.get("measured"))


def rate_estimate(work: Workload, amount: float, done: float, seconds: float, basis: str) -> str:
    """How long ``amount`` units take at the rate of ``done`` units in ``seconds``, saying what
    the rate rests on (``basis``)."""
    rate = done / max(seconds, 1e-9)
    return f"about {format_duration(amount / rate)} at {rate:,.2f} {work.unit}/s ({basis})"


def estimate(work: Workload, amount: float, cache_dir: Path | None = None,
             probe: Probe | None = None) -> str:
    """How long ``amount`` units take here ("about 12 min at ..."): from the rate recorded for
    this work, else from ``probe`` (a first estimate), else a sentence saying it is unknown."""
    recorded = recorded_rate(work, cache_dir)
    if recorded is not None:
        rate, measured = recorded
        return rate_estimate(work, amount, rate, 1.0, f"measured here on {measured}")
    if probe is not None:
        done, seconds = probe()
        if done > 0 and seconds > 0:
            return rate_estimate(work, amount, done, seconds,
                                 f"a first estimate from {done:,.0f} {work.unit} timed just now; "
                                 "nothing measured here before")
    return ("time unknown: no speed measured on this machine for this work yet (the "
            "progress bar gives the time left once it starts)")
