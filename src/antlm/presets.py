"""The presets that ship inside the package: model shapes, runs and sweeps (``antlm/configs``).

A source checkout reaches them as ``configs/`` (a link to this folder); after ``pip install
antlm`` there is no checkout, so a run config can be named instead of given as a path
(``antlm train demo`` is ``configs/runs/demo.yaml``), and ``antlm presets --write DIR`` copies
them out to edit. Their ``inherit:`` and ``base:`` paths are relative to each file, so a copied
folder works as the packaged one does.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

__all__ = ["KINDS", "find_preset", "list_presets", "preset_root", "write_presets"]

KINDS = ("runs", "models", "sweeps")


def preset_root() -> Path:
    """The packaged ``configs`` folder."""
    return Path(str(resources.files("antlm") / "configs"))


def list_presets() -> dict[str, list[str]]:
    """``{kind: [name, ...]}``, a name being a file's stem (``demo``, ``babyllama-tiny``)."""
    root = preset_root()
    return {kind: sorted(p.stem for p in (root / kind).glob("*.yaml")) for kind in KINDS}


def find_preset(name: str, kind: str = "runs") -> Path | None:
    """The packaged file of preset ``name`` (``demo``, or ``runs/demo``, with or without
    ``.yaml``), or None."""
    stem = name.removesuffix(".yaml")
    if "/" in stem:
        kind, _, stem = stem.partition("/")
    path = preset_root() / kind / f"{stem}.yaml"
    return path if kind in KINDS and path.is_file() else None


def write_presets(out: Path) -> list[Path]:
    """Copy every preset to ``out/KIND/NAME.yaml`` (an existing file is kept, never
    overwritten); returns the files written."""
    written = []
    for kind, names in list_presets().items():
        (out / kind).mkdir(parents=True, exist_ok=True)
        for name in names:
            target = out / kind / f"{name}.yaml"
            if not target.exists():
                shutil.copyfile(preset_root() / kind / f"{name}.yaml", target)
                written.append(target)
    return written
