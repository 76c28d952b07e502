"""The reading task of the BabyLM 2025 and 2026 pipelines: how much a model's per-word surprisal
adds to a regression of human reading times (de Varda et al. 2023: eye tracking and self-paced
reading on 205 sentences).

Sources (the 2026 strict pipeline, babylm-org/babylm-eval ``strict/evaluation_pipeline/``,
holds these three files unchanged from babylm/evaluation-pipeline-2025):

* ``reading/run.py``: reads ``reading_data.csv`` with pandas (``item`` as text, an empty
  ``item`` becoming the text ``"None"``), and per row computes the surprisal ``pred`` of
  ``word`` after ``item``, and ``prev_pred`` of ``prev_word`` after ``prev_item`` (NaN where
  the row has no previous item); the predictions file holds ``{"id", "pred", "prev_pred"}``
  per row.
* ``reading/evaluation_functions.py`` (``get_p2``, ``get_p2_mlm``, ``get_p2_mntp``): the
  surprisal of a word is ``-log`` of the product of its pieces' probabilities. The first
  piece is the first token of ``tokenizer(word)`` without special tokens (the word has no
  leading space), read after ``tokenizer(item)`` with its special tokens:
  ``causal`` at the last position of that input; ``mlm`` at the first of
  ``number_of_mask_tokens_to_append`` (3) mask tokens appended to the item's text; ``mntp``
  one position before that first mask. Each later piece ``t`` is scored the same way after
  the item's text with the decoded earlier pieces appended (``item + decode(piece)``, then
  ``+ decode(t)``), its id being the first token of ``tokenizer(decode(t))``.
* ``calculate_results_from_pred.py`` (``_calculate_reading_results``): the leaderboard's two
  numbers, each ``(R2_model - R2_baseline) / (1 - R2_baseline) * 100`` of two ordinary least
  squares fits (``statsmodels.formula.api.ols``), the model adding ``pred`` to the baseline,
  each fit on the rows where its own columns are not missing. Eye tracking: the mean of that
  share over ``RTfirstfix``, ``RTfirstpass``, ``RTgopast`` and ``RTrightbound``, the baseline
  being ``Subtlex_log10``, ``length``, ``context_length`` and their pairwise interactions.
  Self-paced reading: ``self_paced_reading_time``, the baseline adding the previous word's
  ``prev_length`` and ``prev_pred`` (one word of spillover), again with every pairwise
  interaction.

Every query (an input and the token read from it) is one text of
:class:`antlm.eval.scoring.EncodedTexts` whose scored span is that one token, so the batching
of :func:`antlm.eval.scoring.text_log_probs` runs them all: causal appends the token after the
framed item (read one position before it), the masked backends put it in the first mask's
place (the mask the backend puts back before the model reads). antlm stores the shares as
fractions; its tables show them times 100, as the leaderboard does.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from torch import nn

from antlm.atomic import atomic_write_bytes
from antlm.eval.predictions import predictions_path
from antlm.eval.scoring import EncodedTexts, text_log_probs
from antlm.eval.suites import Suite
from antlm.eval.tasks import DATA_HELP, READING, TaskDataError
from antlm.models.contract import ScoringTokenizer

__all__ = [
    "EYE_TRACKING",
    "MASK_TOKENS",
    "READING_BACKENDS",
    "READING_FILE",
    "READING_MEASURES",
    "SELF_PACED",
    "ReadingData",
    "load_reading",
    "reading_results",
    "reading_scores",
    "reading_surprisals",
    "write_reading_predictions",
]

READING_FILE = "evaluation_data/full_eval/reading/reading_data.csv"
# The official default of --number_of_mask_tokens_to_append (reading/run.py).
MASK_TOKENS = 3
# The backends the pipeline defines a word's surprisal for (enc_dec aside, which antlm lacks).
READING_BACKENDS: tuple[str, ...] = ("causal", "mlm", "mntp")
EYE_TRACKING: tuple[str, ...] = ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound")
SELF_PACED = "self_paced_reading_time"
_BASELINE: tuple[str, ...] = ("Subtlex_log10", "length", "context_length")
_SPILLOVER: tuple[str, ...] = (*_BASELINE, "prev_length", "prev_pred")
# results.json entries of the reading task: the leaderboard's READING (ET) and READING (SPR).
READING_MEASURES: dict[str, str] = {"reading_et": "eye tracking",
                                    "reading_spr": "self-paced reading (one word of spillover)"}
_NUMERIC: tuple[str, ...] = (*_BASELINE, "prev_length", *EYE_TRACKING, SELF_PACED)
_TEXT: tuple[str, ...] = ("item", "word", "prev_item", "prev_word")


@dataclass(frozen=True)
class ReadingData:
    """The rows of ``reading_data.csv``: the texts to score and the measures to regress."""

    source: str
    lines: list[int]  # each row's line in the file, for errors
    items: list[str]
    words: list[str]
    prev_items: list[str | None]  # None: the row has no previous word (its prev_pred is NaN)
    prev_words: list[str | None]
    measures: pd.DataFrame  # the numeric columns, NaN where a cell is empty

    def __len__(self) -> int:
        return len(self.words)


def load_reading(data_dir: str | Path) -> ReadingData:
    """Every row of the reading data; a malformed row is refused by file and line."""
    path = Path(data_dir) / READING_FILE
    if not path.is_file():
        raise TaskDataError(f"task {READING!r}: {path} not found. {DATA_HELP}")
    try:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.reader(file)
            header = next(reader, [])
            missing = [c for c in (*_TEXT, *_NUMERIC) if c not in header]
            if missing:
                raise TaskDataError(f"{path}, line 1: the header lacks column(s) "
                                    f"{', '.join(missing)}")
            rows = [(reader.line_num, row) for row in reader if row]
    except UnicodeDecodeError as exc:
        raise TaskDataError(f"{path}: not UTF-8 text (byte {exc.start}); restore it from the "
                            f"BabyLM evaluation data. {DATA_HELP}") from None
    except csv.Error as exc:
        raise TaskDataError(f"{path}: not valid CSV ({exc}). {DATA_HELP}") from None
    if not rows:
        raise TaskDataError(f"{path} holds no rows; restore it from the BabyLM evaluation "
                            f"data. {DATA_HELP}")
    column = {name: header.index(name) for name in (*_TEXT, *_NUMERIC)}
    items, words, prev_items, prev_words, numbers = [], [], [], [], []
    for lineno, row in rows:
        at = f"{path}, line {lineno}"
        if len(row) != len(header):
            raise TaskDataError(f"{at}: {len(row)} fields, the header has {len(header)}")
        word = row[column["word"]]
        if not word.strip():
            raise TaskDataError(f"{at}: field 'word' is empty")
        prev_item, prev_word = row[column["prev_item"]], row[column["prev_word"]]
        if bool(prev_item) != bool(prev_word.strip()):
            raise TaskDataError(f"{at}: fields 'prev_item' and 'prev_word' must be both empty "
                                "(the first word of a sentence) or both given")
        # run.py: an empty item is read as NaN and filled with the text "None"
        items.append(row[column["item"]] or "None")
        words.append(word)
        prev_items.append(prev_item or None)
        prev_words.append(prev_word or None)
        numbers.append([_number(row[column[name]], name, at) for name in _NUMERIC])
    measures = pd.DataFrame(numbers, columns=list(_NUMERIC), dtype=np.float64)
    return ReadingData(str(path), [n for n, _ in rows], items, words, prev_items, prev_words,
                       measures)


def _number(cell: str, name: str, at: str) -> float:
    """A numeric cell; an empty one is missing (NaN: the regressions drop its row)."""
    if not cell.strip():
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise TaskDataError(f"{at}: field {name!r} is {cell!r}, not a number") from None


def _queries(
    tokenizer: ScoringTokenizer, context: str, word: str, at: str
) -> list[tuple[str, int]]:
    """The ``(text, token id)`` queries whose log-probabilities sum to the word's (see the
    module docstring): the first piece after the item, each later one after the item with the
    decoded earlier pieces."""
    pieces = tokenizer.encode_batch([word])[0]
    if not pieces:
        raise TaskDataError(f"{at}: the word {word!r} encodes to no tokens")
    queries = [(context, pieces[0])]
    context += tokenizer.decode([pieces[0]])
    for piece in pieces[1:]:
        text = tokenizer.decode([piece])
        ids = tokenizer.encode_batch([text])[0]
        if not ids:
            raise TaskDataError(f"{at}: a piece of the word {word!r} decodes to {text!r}, "
                                "which encodes to no tokens")
        queries.append((context, ids[0]))
        context += text
    return queries


def _encode_queries(
    tokenizer: ScoringTokenizer, queries: Sequence[tuple[str, int]], primitive: str,
    mask_tokens: int,
) -> EncodedTexts:
    """Each query as one text whose scored span is its token (see the module docstring)."""
    contexts = sorted({text for text, _ in queries})
    encoded = dict(zip(contexts, tokenizer.encode_batch(contexts)))
    ids, starts = [], []
    for text, token in queries:
        if primitive == "causal":
            framed = tokenizer.frame(encoded[text])
            ids.append([*framed, token])
            starts.append(len(framed))
        else:
            if tokenizer.mask_id is None:
                raise TaskDataError(f"backend {primitive} needs a mask token; the tokenizer "
                                    "has none")
            masks = [tokenizer.mask_id] * (mask_tokens - 1)
            ids.append(tokenizer.frame([*encoded[text], token, *masks]))
            starts.append(_frame_prefix(tokenizer) + len(encoded[text]))
    start = np.asarray(starts, np.int64)
    lengths = np.fromiter(map(len, ids), np.int64, count=len(ids))
    return EncodedTexts(ids, start, start + 1, lengths,
                        [np.arange(1, n + 1, dtype=np.int64) for n in lengths])


def _frame_prefix(tokenizer: ScoringTokenizer) -> int:
    """How many tokens ``frame`` puts in front of a text."""
    return tokenizer.frame([-1]).index(-1)


def reading_surprisals(
    model: nn.Module,
    tokenizer: ScoringTokenizer,
    data: ReadingData,
    primitive: str,
    batch_size: int = 64,
    precision: str = "fp32",
    progress: bool = False,
    mask_tokens: int = MASK_TOKENS,
) -> tuple[np.ndarray, np.ndarray]:
    """``(pred, prev_pred)`` per row: the surprisal (nats) of the row's word after its item,
    and of its previous word after the previous item (NaN for a sentence's first word)."""
    if primitive not in READING_BACKENDS:
        raise ValueError(f"reading has no surprisal under {primitive!r}; allowed: "
                         f"{', '.join(READING_BACKENDS)}")
    words = [(c, w, f"{data.source}, line {n}")
             for n, c, w in zip(data.lines, data.items, data.words)]
    words += [(c, w, f"{data.source}, line {n} (prev_word)")
              for n, c, w in zip(data.lines, data.prev_items, data.prev_words) if c is not None]
    unique = list(dict.fromkeys((c, w) for c, w, _ in words))
    where = {(c, w): at for c, w, at in reversed(words)}
    queries: list[tuple[str, int]] = []
    owner: list[int] = []
    for index, (context, word) in enumerate(unique):
        found = _queries(tokenizer, context, word, where[(context, word)])
        queries += found
        owner += [index] * len(found)
    encoded = _encode_queries(tokenizer, queries, primitive, mask_tokens)
    log_probs = text_log_probs(model, encoded, primitive, tokenizer.mask_id or 0, batch_size,
                               precision, progress, desc=f"reading {primitive}")
    surprisal = -np.bincount(np.asarray(owner, np.int64), weights=log_probs,
                             minlength=len(unique))
    of = dict(zip(unique, surprisal))
    pred = np.asarray([of[(c, w)] for c, w in zip(data.items, data.words)], np.float64)
    prev = np.asarray([math.nan if c is None else of[(c, w)]
                       for c, w in zip(data.prev_items, data.prev_words)], np.float64)
    return pred, prev


def _formula(outcome: str, predictors: Sequence[str]) -> str:
    """``outcome ~ a + b + ... + a:b + ...``: main effects and every pairwise interaction, in
    the order the official formulas write them."""
    terms = [*predictors, *(f"{a}:{b}" for a, b in combinations(predictors, 2))]
    return f"{outcome} ~ {' + '.join(terms)}"


def _gain(table: pd.DataFrame, outcome: str, predictors: Sequence[str]) -> dict[str, float]:
    """The share of the variance the baseline left unexplained that ``pred`` explains, with
    the fits' figures (each fit on the rows its own columns have)."""
    formula = _formula(outcome, predictors)
    baseline = smf.ols(formula, data=table[[outcome, *predictors]].dropna()).fit()
    model = smf.ols(formula + " + pred",
                    data=table[[outcome, *predictors, "pred"]].dropna()).fit()
    r2_base, r2_model = float(baseline.rsquared), float(model.rsquared)
    return {"gain": (r2_model - r2_base) / (1 - r2_base), "r2_baseline": r2_base,
            "r2_model": r2_model, "coefficient": float(model.params["pred"]),
            "t": float(model.tvalues["pred"]), "p": float(model.pvalues["pred"]),
            "n": int(model.nobs)}


def reading_scores(
    measures: pd.DataFrame, pred: np.ndarray, prev_pred: np.ndarray
) -> dict[str, dict[str, dict[str, float]]]:
    """Per measure (:data:`READING_MEASURES`), the fits of each outcome (see the module
    docstring); a measure's score is the mean ``gain`` of its outcomes."""
    table = measures.assign(pred=pred, prev_pred=prev_pred)
    return {
        "reading_et": {dv: _gain(table, dv, _BASELINE) for dv in EYE_TRACKING},
        "reading_spr": {SELF_PACED: _gain(table, SELF_PACED, _SPILLOVER)},
    }


def reading_results(
    model: nn.Module, tokenizer: ScoringTokenizer, data: ReadingData, primitive: str,
    batch_size: int = 64, precision: str = "fp32", progress: bool = False,
) -> tuple[dict[str, dict[str, Any]], tuple[np.ndarray, np.ndarray]]:
    """The ``results.json`` entries of one backend (``reading_et``, ``reading_spr``) and the
    surprisals ``(pred, prev_pred)`` they were fitted on."""
    pred, prev = reading_surprisals(model, tokenizer, data, primitive, batch_size, precision,
                                    progress)
    entries = {}
    for measure, fits in reading_scores(data.measures, pred, prev).items():
        gains = {dv: fit["gain"] for dv, fit in fits.items()}
        entries[measure] = {"score": float(np.mean(list(gains.values()))), "metric": "delta_r2",
                            "n_pairs": len(data), "max_pairs_per_subtask": None,
                            "subtasks": gains, "fits": fits}
    return entries, (pred, prev)


def write_reading_predictions(
    directory: Path, suite: Suite, surprisals: dict[str, tuple[np.ndarray, np.ndarray]]
) -> Path:
    """One line per row, as the pipeline's predictions hold them (``id``: the row's index;
    ``pred`` and ``prev_pred``, null for NaN), per backend."""
    backends = list(surprisals)
    lines = []
    for i in range(len(next(iter(surprisals.values()))[0])):
        record = {"task": READING, "id": i,
                  "pred": {b: _finite(surprisals[b][0][i]) for b in backends},
                  "prev_pred": {b: _finite(surprisals[b][1][i]) for b in backends}}
        lines.append(json.dumps(record))
    path = predictions_path(directory, suite, READING)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
