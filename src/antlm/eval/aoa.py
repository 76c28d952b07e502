"""Age of acquisition (AoA): when a run learns each CDI word, compared with when children do.

The 2026 BabyLM pipeline's task (babylm-org/babylm-eval, ``strict/``), after Chang & Bergen
(2022), read for its rules (the code is not copied):

* **Data** (``AoA_word/eval_util.py``, ``load_eval``): ``cdi_childes.json`` maps 504 CDI words
  to contexts taken from C4 (8,005 in all, ``AOA_SIZE`` in ``collate_preds.py``); a word of one
  character is left out, and no minimum number of contexts applies (``run.py``'s
  ``--min_context`` defaults to 0; ``scripts/eval_aoa.sh`` sets ``MIN_CONTEXT=20`` but never
  passes it), so a word without contexts simply has no curve.
* **Surprisal** (``AoA_word/evaluation_functions.py``, ``compute_surprisal``): at every
  revision, ``-log p(word | context)`` in nats, the text being ``context.strip() + " " +
  word``, framed by the tokenizer's special tokens, the word's tokens (those overlapping its
  characters) summed, under the model's backend: causal reads token j at j-1; mlm masks each
  token of the word in turn and reads it in place (PLL); mntp masks it and reads it at j-1.
  Here that is :func:`antlm.eval.scoring.encode_texts` with :data:`AOA_FRAMING` and
  :func:`antlm.eval.scoring.text_log_probs` under the run's declared backend. The pipeline
  returns NaN for a context that fails; antlm does so for a context longer than the model's
  window, counts them, and the fit drops them as the pipeline's does.
* **Revisions** (``AoA_word/eval_util.py``, ``StepConfig``): the milestone checkpoints
  ``chck_1M`` .. ``chck_9M``, ``chck_10M`` .. ``chck_100M`` (strict-small; strict adds
  ``chck_200M`` .. ``chck_1000M``); the final model is not one of them. A word's x axis is the
  words in the revision's name (``utils.py``, ``extract_step_number``): here the milestone.
* **Fit and score** (``utils.py``, ``AoAEvaluator``, as ``calculate_results_from_pred.py``
  calls it): per word, every (revision, context) surprisal is one point; the sigmoid
  ``a / (1 + exp(-b (x - c))) + d`` is fitted to ``-surprisal`` against
  ``x = log10(words + 1)`` (scipy's ``curve_fit``, Levenberg-Marquardt, ``maxfev=1000``); the
  word's AoA is where the fit crosses halfway between "chance", ``log2(300,000)``, and the
  word's lowest surprisal, kept only inside the revisions' range, as ``log10(words + 1)``. A
  child's AoA is where a sigmoid fitted (bounded) to the CDI proportions at 16-30 months
  (``cdi_human.csv``) crosses 0.5. The score is Pearson's r between the two over the words
  that have both (0.0 when fewer than 3 do).

As written upstream, "chance" is in bits while the surprisals are in nats; antlm keeps the rule
as it is, since the number is only comparable under the pipeline's own rule.

The surprisals of each revision are kept in ``RUN/aoa_surprisals.json`` as soon as it is
scored (an interrupted ``antlm eval RUN --checkpoints`` resumes), and the result goes to
``results.json`` under ``aoa``, one section per suite.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.stats import pearsonr
from torch import nn

from antlm.atomic import atomic_write_bytes
from antlm.eval.revisions import Revision
from antlm.eval.scoring import encode_texts, primitives_for, readable, text_log_probs
from antlm.eval.suites import Framing
from antlm.eval.tables import Target, code, heading, render_table
from antlm.eval.tasks import DATA_HELP, TaskDataError
from antlm.jsonfile import read_json_file
from antlm.models.contract import ScoringTokenizer
from antlm.rundir import RunPaths, read_json, update_results

__all__ = [
    "AOA_FRAMING",
    "AoAData",
    "aoa_settings",
    "child_aoa",
    "compute_aoa",
    "curve_fitness",
    "keep_surprisals",
    "load_aoa_data",
    "model_aoa",
    "official_revisions",
    "render_aoa",
    "revision_surprisals",
    "sigmoid",
    "stored_surprisals",
    "write_aoa",
]

AOA_FOLDER = "evaluation_data/full_eval/aoa"
# The text context.strip() + " " + word, in the tokenizer's own special tokens, summed.
AOA_FRAMING = Framing("tokenizer", "none", " ", "", "sum")
CHANCE_VOCAB = 300_000  # utils.py: approximate_vocab; chance surprisal log2 of it
MIDPOINT = 0.5  # halfway between chance and the lowest surprisal; a child's CDI threshold too
MAX_EVALUATIONS = 1000  # curve_fit's maxfev, both fits
CDI_AGES = tuple(range(16, 31))  # months, the CDI columns the pipeline reads
SURPRISAL_FIELDS = {"settings": dict, "revisions": dict}


def official_revisions(largest_milestone: int) -> list[str]:
    """The revisions the 2026 pipeline scores AoA at (``StepConfig``): strict-small's 19, or
    strict's 28 for a run whose milestones go past 100M words."""
    millions = [*range(1, 10), *range(10, 101, 10)]
    if largest_milestone > 100_000_000:
        millions += list(range(200, 1001, 100))
    return [f"chck_{m}M" for m in millions]


@dataclass(frozen=True)
class AoAData:
    """The words with their contexts (file order, so a context's index is the pipeline's
    ``context_id``) and each CDI word's proportions of children producing it by age."""

    words: tuple[str, ...]  # one per context: the word it scores
    contexts: tuple[str, ...]
    cdi: dict[str, np.ndarray]  # word -> proportions at CDI_AGES (NaN where empty)
    source: str  # the contexts' file, for the results

    def word_indices(self) -> dict[str, list[int]]:
        indices: dict[str, list[int]] = {}
        for i, word in enumerate(self.words):
            indices.setdefault(word, []).append(i)
        return indices


def load_aoa_data(data_dir: str | Path) -> AoAData:
    """``cdi_childes.json`` and ``cdi_human.csv`` from the official bundle's layout, read
    strictly: a malformed record raises :class:`TaskDataError` naming the file and the word
    (JSON) or line (CSV)."""
    folder = Path(data_dir) / AOA_FOLDER
    path = folder / "cdi_childes.json"
    if not path.is_file():
        raise TaskDataError(f"task 'aoa': {path} not found. {DATA_HELP}")
    try:
        mapping = read_json_file(path)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TaskDataError(f"{path}: not a UTF-8 JSON file ({exc})") from None
    if not isinstance(mapping, dict):
        raise TaskDataError(f"{path}: expected a JSON object mapping each word to its contexts")
    words, contexts = [], []
    for word, records in mapping.items():
        if not isinstance(records, list):
            raise TaskDataError(f"{path}, word {word!r}: expected a list of contexts")
        if len(word) <= 1:  # load_eval: words of one character are not evaluated
            continue
        for number, record in enumerate(records):
            context = record.get("context") if isinstance(record, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise TaskDataError(f"{path}, word {word!r}, context {number}: field 'context' "
                                    "is missing or not a non-empty string")
            words.append(word)
            contexts.append(context)
    return AoAData(tuple(words), tuple(contexts), _read_cdi(folder / "cdi_human.csv"),
                   f"{AOA_FOLDER}/cdi_childes.json")


def _read_cdi(path: Path) -> dict[str, np.ndarray]:
    """``word -> proportions at CDI_AGES``; an empty cell is NaN (pandas' reading of it)."""
    if not path.is_file():
        raise TaskDataError(f"task 'aoa': {path} not found. {DATA_HELP}")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise TaskDataError(f"{path}: not UTF-8 text (byte {exc.start}); restore it from the "
                            f"BabyLM evaluation data. {DATA_HELP}") from None
    except csv.Error as exc:
        raise TaskDataError(f"{path}: not valid CSV ({exc}). {DATA_HELP}") from None
    header = rows[0] if rows else []
    columns = {name: i for i, name in enumerate(header)}
    missing = [name for name in ("word", *map(str, CDI_AGES)) if name not in columns]
    if missing:
        raise TaskDataError(f"{path}, line 1: the header lacks the column(s) {missing}")
    cdi: dict[str, np.ndarray] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise TaskDataError(f"{path}, line {lineno}: {len(row)} cells, the header has "
                                f"{len(header)}")
        try:
            values = [float(row[columns[str(age)]] or "nan") for age in CDI_AGES]
        except ValueError:
            raise TaskDataError(f"{path}, line {lineno}: a proportion is not a number") from None
        cdi.setdefault(row[columns["word"]], np.asarray(values))  # the first row of a word
    return cdi


def revision_surprisals(
    model: nn.Module, tokenizer: ScoringTokenizer, data: AoAData, backend: str,
    batch_size: int = 64, precision: str = "fp32", progress: bool = False, desc: str = "aoa",
) -> np.ndarray:
    """Every context's surprisal of its word in nats (float64, file order) under ``backend``
    (``fused``: causal + mntp, as the zero-shot scores add them); NaN where the text does not
    fit the model's window."""
    contexts = [c.strip() for c in data.contexts]
    words = [w.strip() for w in data.words]
    encoded = encode_texts(tokenizer, contexts, words, AOA_FRAMING)
    max_len = getattr(getattr(model, "config", None), "max_seq_len", None)
    fits = np.flatnonzero(encoded.lengths <= (max_len or encoded.lengths.max(initial=0)))
    kept = encode_texts(tokenizer, [contexts[i] for i in fits], [words[i] for i in fits],
                        AOA_FRAMING)
    log_probs = sum(text_log_probs(model, readable(kept, p), p, tokenizer.mask_id, batch_size,
                                   precision, progress, desc=f"{desc} {p}")
                    for p in primitives_for([backend]))
    surprisals = np.full(len(contexts), np.nan)
    surprisals[fits] = -np.asarray(log_probs)
    return surprisals


def sigmoid(x: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    """The pipeline's learning curve, ``a / (1 + exp(-b (x - c))) + d``."""
    return a / (1 + np.exp(-b * (x - c))) + d


def _crossing(params: Sequence[float], y: float) -> float | None:
    """Where the fitted sigmoid reaches ``y``; None when it never does (or is not rising)."""
    a, b, c, d = params
    if b <= 0 or a <= 0 or not d < y < a + d:
        return None
    return float(c - np.log(a / (y - d) - 1) / b)


def _fit(x: np.ndarray, y: np.ndarray, p0: list[float], **bounds: Any) -> np.ndarray | None:
    """curve_fit's parameters, or None where the fit fails (the pipeline catches every error
    of a fit and reports no AoA for the word)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (OptimizeWarning, RuntimeWarning))
        try:
            return curve_fit(sigmoid, x, y, p0=p0, maxfev=MAX_EVALUATIONS, **bounds)[0]
        except (RuntimeError, ValueError, TypeError):
            return None


def child_aoa(proportions: np.ndarray, ages: Sequence[int] = CDI_AGES) -> float | None:
    """The age (months) at which a sigmoid fitted to the CDI proportions reaches 0.5
    (``compute_child_aoa``); None with fewer than 3 ages or outside the ages observed."""
    valid = ~np.isnan(proportions)
    x, y = np.asarray(ages, dtype=float)[valid], proportions[valid]
    if len(y) < 3:
        return None
    params = _fit(x, y, [1.0, 0.1, float(np.mean(x)), 0.0],
                  bounds=([0, 0, x[0], -0.5], [2.0, 1.0, x[-1], 0.5]))
    aoa = None if params is None else _crossing(params, MIDPOINT)
    return aoa if aoa is not None and x[0] <= aoa <= x[-1] else None


def model_aoa(words_seen: Sequence[float], surprisals: Sequence[float]) -> float | None:
    """A word's AoA as ``log10(words + 1)`` (``compute_model_aoa``): one point per (revision,
    context) in revision order; None with fewer than 3 points, when the fit fails or never
    crosses the threshold, or outside the first and last revisions."""
    if len(surprisals) < 3:
        return None
    steps, values = np.asarray(words_seen, dtype=float), np.asarray(surprisals, dtype=float)
    valid = ~np.isnan(values)
    if not valid.any():
        return None
    steps, values = steps[valid], values[valid]
    chance = np.log2(CHANCE_VOCAB)
    threshold = chance - MIDPOINT * (chance - values.min())
    x, y = np.log10(steps + 1), -values
    params = _fit(x, y, [float(y.max() - y.min()), 1.0, float(np.mean(x)), float(y.min())])
    log_aoa = None if params is None else _crossing(params, -threshold)
    if log_aoa is None or not steps[0] <= 10 ** log_aoa - 1 <= steps[-1]:
        return None
    return log_aoa


def curve_fitness(model: dict[str, float], child: dict[str, float]) -> tuple[float, float | None]:
    """Pearson's r between model and child AoAs over the words both have, and its p-value;
    ``(0.0, None)`` with fewer than 3 such words, as the pipeline reports it."""
    shared = [w for w in model if w in child]
    if len(shared) < 3:
        return 0.0, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: r is NaN, reported as such
        r, p = pearsonr([model[w] for w in shared], [child[w] for w in shared])
    return float(r), float(p)


def compute_aoa(data: AoAData, revisions: Sequence[tuple[str, int]],
                surprisals: Sequence[np.ndarray]) -> dict[str, Any]:
    """The AoA result of the revisions ``(name, milestone words)`` (ascending) with their
    surprisals: the score, the per-word AoAs, and what could not be computed."""
    model, child = {}, {}
    no_child, no_model = [], []
    for word, indices in data.word_indices().items():
        if word not in data.cdi:
            continue  # the pipeline looks each word up in the CDI table and skips the absent
        age = child_aoa(data.cdi[word])
        if age is None:
            no_child.append(word)
            continue
        steps = [words for _, words in revisions for _ in indices]
        values = np.concatenate([s[indices] for s in surprisals]) if surprisals else []
        learned = model_aoa(steps, values)
        if learned is None:
            no_model.append(word)
            continue
        model[word], child[word] = learned, age
    r, p = curve_fitness(model, child)
    largest = max((words for _, words in revisions), default=0)
    return {
        "score": None if math.isnan(r) else r,  # Pearson r; None: constant AoAs
        "p_value": p,
        "n_words": len(model),
        "revisions": [name for name, _ in revisions],
        "revisions_missing": [name for name in official_revisions(largest)
                              if name not in {n for n, _ in revisions}],
        "contexts": len(data.contexts),
        # per revision: the texts that do not fit the model's window (the same at every one)
        "contexts_too_long": int(np.isnan(surprisals[0]).sum()) if surprisals else 0,
        "words_without_child_aoa": len(no_child),
        "words_without_model_aoa": len(no_model),
        "model_aoa_log10_words": model,
        "child_aoa_months": child,
    }


def aoa_settings(backend: str, precision: str) -> dict[str, Any]:
    """What the stored surprisals were scored under: they are reused only when equal."""
    return {"backend": backend, "precision": precision, "data": f"{AOA_FOLDER}/cdi_childes.json"}


def stored_surprisals(paths: RunPaths, settings: dict[str, Any]) -> dict[str, Any]:
    """``aoa_surprisals.json`` when scored under ``settings``, else a new empty store."""
    store = read_json(paths.aoa_surprisals, SURPRISAL_FIELDS)
    return store if store.get("settings") == settings else {"settings": settings, "revisions": {}}


def keep_surprisals(paths: RunPaths, store: dict[str, Any], revision: Revision,
                    surprisals: np.ndarray, seconds: float) -> None:
    """Add one milestone revision's surprisals to the store and write it (NaN as null)."""
    store["revisions"][revision.name] = {
        "milestone": revision.milestone, "words_seen": revision.words_seen,
        "step": revision.step, "seconds": round(seconds, 2),
        "surprisals": [None if math.isnan(v) else v for v in surprisals.tolist()]}
    atomic_write_bytes(paths.aoa_surprisals, json.dumps(store).encode())


def write_aoa(paths: RunPaths, store: dict[str, Any], data: AoAData, suite: str
              ) -> dict[str, Any]:
    """Compute AoA from the stored revisions and merge it into ``results.json`` under
    ``aoa.SUITE``; returns that section."""
    ordered = sorted(store["revisions"].items(), key=lambda item: item[1]["milestone"])
    surprisals = []
    for name, revision in ordered:
        values = np.array([np.nan if v is None else v for v in revision["surprisals"]])
        if len(values) != len(data.contexts):
            raise TaskDataError(
                f"{paths.aoa_surprisals}: revision {name} has {len(values)} surprisals for "
                f"{len(data.contexts)} contexts; delete the file to score them again")
        surprisals.append(values)
    section = compute_aoa(data, [(n, r["milestone"]) for n, r in ordered], surprisals)
    section.update(backend=store["settings"]["backend"],
                   precision=store["settings"]["precision"], data=data.source,
                   evaluated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def with_aoa(results: dict[str, Any]) -> dict[str, Any]:
        results.setdefault("aoa", {})[suite] = section
        return results

    update_results(paths, with_aoa)
    return section


def render_aoa(section: dict[str, Any], title: str, target: Target = "markdown") -> str:
    """The AoA result as a short table and what it could not compute."""
    score = section["score"]
    rows = [["Pearson r (model vs child AoA)",
             "undefined" if score is None else f"{score:.3f}"],
            ["words with both AoAs", f"{section['n_words']:,}"],
            ["words without a model AoA", f"{section['words_without_model_aoa']:,}"],
            ["words without a child AoA", f"{section['words_without_child_aoa']:,}"]]
    # the revisions below the table, not in a cell: 19 names would make the table 200 wide
    notes = [f"Revisions: {', '.join(section['revisions']) or 'none'}."]
    if section["n_words"] < 3:
        notes.append("Fewer than 3 words have both AoAs: the pipeline reports 0.0.")
    if section["revisions_missing"]:
        notes.append(f"Missing official revisions: {', '.join(section['revisions_missing'])}.")
    if section["contexts_too_long"]:
        notes.append(f"{section['contexts_too_long']:,} contexts longer than the model's window "
                     "are left out (NaN), as the pipeline drops those it fails to score.")
    return "\n".join([
        heading(f"Age of acquisition of {code(title, target)}", target), "",
        (f"Backend {code(section['backend'], target)}, {section['contexts']:,} contexts "
         f"per revision, {len(section['revisions'])} revisions."), "",
        render_table(["AoA", "value"], rows, target), *("\n" + n for n in notes)])
