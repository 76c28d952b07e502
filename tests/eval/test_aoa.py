"""Age of acquisition: the official data read strictly, and both fits checked on hand-made
curves against an independent computation (bisection on the curve the data was drawn from)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from antlm.eval.aoa import (
    CDI_AGES,
    CHANCE_VOCAB,
    child_aoa,
    compute_aoa,
    curve_fitness,
    load_aoa_data,
    model_aoa,
    official_revisions,
    render_aoa,
)
from antlm.eval.tasks import TaskDataError

AOA = "evaluation_data/full_eval/aoa"
# The strict-small revisions of the 2026 pipeline, as words seen.
MILLIONS = [*range(1, 10), *range(10, 101, 10)]


def _crossing(curve, y: float, low: float, high: float) -> float:
    """Where the increasing ``curve`` reaches ``y`` in ``[low, high]``, by bisection."""
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if curve(middle) < y else (low, middle)
    return (low + high) / 2


def test_the_official_aoa_data_is_read_whole(data_dir: Path) -> None:
    data = load_aoa_data(data_dir)
    assert len(data.contexts) == 8_005  # AOA_SIZE in collate_preds.py
    assert len(data.word_indices()) == 485  # 504 words, 19 of them without contexts
    assert len(data.cdi) == 504 and set(data.word_indices()) <= set(data.cdi)
    airplane = data.cdi["airplane"]
    assert airplane.shape == (len(CDI_AGES),) and airplane[0] == pytest.approx(0.2)


def _copy(data_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(data_dir / AOA, tmp_path / AOA)
    return tmp_path / AOA


def test_a_damaged_cdi_line_is_named_by_file_and_line(data_dir: Path, tmp_path: Path) -> None:
    csv = _copy(data_dir, tmp_path) / "cdi_human.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("0.", "x.", 1)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=rf"{re.escape(str(csv))}, line 5: a proportion"):
        load_aoa_data(tmp_path)
    lines[4] = lines[4].rsplit(",", 1)[0]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"line 5: 16 cells, the header has 17"):
        load_aoa_data(tmp_path)


def test_a_context_without_text_is_named_by_its_word(data_dir: Path, tmp_path: Path) -> None:
    contexts = _copy(data_dir, tmp_path) / "cdi_childes.json"
    text = contexts.read_text(encoding="utf-8")
    contexts.write_text(text.replace('"context": "', '"contxt": "', 1), encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"word 'airplane', context 0: field 'context'"):
        load_aoa_data(tmp_path)


def test_a_childs_aoa_is_where_the_fitted_cdi_curve_crosses_half() -> None:
    a, b, c, d = 0.9, 0.5, 22.0, 0.02
    curve = lambda x: a / (1 + np.exp(-b * (x - c))) + d
    ages = np.asarray(CDI_AGES, dtype=float)
    assert child_aoa(curve(ages)) == pytest.approx(_crossing(curve, 0.5, 16, 30), abs=1e-4)
    # never reaching half within 16-30 months: no AoA; too few ages answered: none either
    assert child_aoa(0.3 * curve(ages)) is None
    assert child_aoa(np.where(ages < 18, curve(ages), np.nan)) is None


def _surprisal(words: np.ndarray, midpoint: float = 7.0) -> np.ndarray:
    """A word learned around ``10 ** midpoint`` words: surprisal from 20 down to 8 nats on
    log10 words."""
    return 20 - 12 / (1 + np.exp(-2.5 * (np.log10(words + 1) - midpoint)))


def test_a_models_aoa_is_where_the_fitted_curve_crosses_halfway_from_chance() -> None:
    words = np.repeat([m * 1e6 for m in MILLIONS], 3)  # three contexts at every revision
    surprisals = _surprisal(words)
    chance = np.log2(CHANCE_VOCAB)  # bits, against surprisals in nats: the pipeline's rule
    threshold = chance - 0.5 * (chance - surprisals.min())
    expected = _crossing(lambda x: -_surprisal(10 ** x - 1), -threshold, 6.0, 8.0)
    assert model_aoa(words, surprisals) == pytest.approx(expected, abs=1e-4)
    # NaN points are dropped; a curve that stays below the threshold never crosses it
    with_nan = surprisals.copy()
    with_nan[::3] = np.nan
    assert model_aoa(words, with_nan) == pytest.approx(expected, abs=1e-4)
    assert model_aoa(words, np.full(len(words), 5.0)) is None
    assert model_aoa(words[:2], surprisals[:2]) is None  # fewer than 3 points
    # learned before the first revision scored: outside the revisions, so no AoA
    late = words >= 30e6
    assert model_aoa(words[late], surprisals[late]) is None


def test_the_score_is_pearsons_r_over_the_words_with_both_aoas() -> None:
    model = {"a": 6.1, "b": 6.9, "c": 7.4, "d": 7.0, "only_model": 5.0}
    child = {"a": 18.0, "b": 21.0, "c": 26.0, "d": 20.0, "only_child": 30.0}
    r, p = curve_fitness(model, child)
    shared = ["a", "b", "c", "d"]
    x, y = np.array([model[w] for w in shared]), np.array([child[w] for w in shared])
    by_hand = ((x - x.mean()) * (y - y.mean())).sum() / np.sqrt(
        ((x - x.mean()) ** 2).sum() * ((y - y.mean()) ** 2).sum())
    assert r == pytest.approx(by_hand) and 0 < p < 1
    assert curve_fitness({"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}) == (0.0, None)


def test_compute_aoa_fits_every_word_over_the_revisions_and_says_what_is_missing(
    data_dir: Path,
) -> None:
    data = load_aoa_data(data_dir)
    revisions = [(f"chck_{m}M", m * 1_000_000) for m in MILLIONS[:12]]  # up to chck_30M
    # Each word is learned when children learn it, shifted onto the words axis: every curve
    # has the same shape, so the model's AoA is about the child's moved linearly, and r is
    # close to 1 (not exactly: the lowest surprisal a word reaches by 30M words, hence its
    # threshold, varies a little with its midpoint).
    ages = {word: child_aoa(data.cdi[word]) for word in data.word_indices()}
    midpoint = {word: 6.3 + (age - 16) / 14 for word, age in ages.items() if age is not None}
    surprisals = []
    for _, words in revisions:
        values = np.full(len(data.contexts), 14.0)  # a word children do not learn: flat
        for word, indices in data.word_indices().items():
            if word in midpoint:
                values[indices] = _surprisal(np.array(words), midpoint[word])
        surprisals.append(values)
    surprisals[0][:5] = np.nan  # five contexts too long for the model
    section = compute_aoa(data, revisions, surprisals)
    assert section["revisions"] == [name for name, _ in revisions]
    assert section["revisions_missing"] == [f"chck_{m}M" for m in MILLIONS[12:]]
    assert section["contexts"] == 8_005 and section["contexts_too_long"] == 5
    assert 0.99 < section["score"] <= 1.0
    assert section["words_without_child_aoa"] == sum(a is None for a in ages.values())
    assert section["n_words"] + section["words_without_model_aoa"] == len(midpoint)
    assert section["n_words"] > 100
    assert official_revisions(1_000_000_000)[-1] == "chck_1000M"
    assert len(official_revisions(100_000_000)) == 19


def test_the_aoa_table_stays_narrow_with_every_revision_listed_below_it() -> None:
    revisions = [f"chck_{m}M" for m in (*range(1, 10), *range(10, 101, 10))]
    section = {"score": 0.25, "n_words": 9, "words_without_model_aoa": 397,
               "words_without_child_aoa": 79, "revisions": revisions, "revisions_missing": [],
               "contexts_too_long": 0, "backend": "causal", "contexts": 8005}
    text = render_aoa(section, "run", target="terminal")
    table = text.split("Revisions:")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    assert f"Revisions: {', '.join(revisions)}." in text
    assert "0.250" in table
