"""Task readers on the real BabyLM evaluation data (counts from shared/data/PROVENANCE.md)."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from antlm.eval.tasks import (
    COMPS_DIR,
    NO_PLAIN_TEXT,
    TASKS,
    TaskDataError,
    load_task,
    load_tasks,
    parse_task_list,
    subtask_group,
)

EWOK_DOMAINS = {
    "agent-properties": 2210,
    "material-dynamics": 770,
    "material-properties": 170,
    "physical-dynamics": 120,
    "physical-interactions": 556,
    "physical-relations": 818,
    "quantitative-properties": 314,
    "social-interactions": 294,
    "social-properties": 328,
    "social-relations": 1548,
    "spatial-relations": 490,
}
SUPPLEMENT = {
    "hypernym": 842,
    "qa_congruence_easy": 64,
    "qa_congruence_tricky": 165,
    "subject_aux_inversion": 3867,
    "turn_taking": 280,
}

# Items per {file}_{numops}_ops subset, numops 0..5 (shared/data/evaluation_data/PROVENANCE.md).
ENTITY_TRACKING = {
    "ambiref": [607, 607, 604, 604, 615, 187],
    "move_contents": [605, 606, 605, 606, 529, 156],
    "regular": [606, 607, 606, 606, 568, 159],
}
ET_FOLDER = Path("evaluation_data/full_eval/entity_tracking")


def test_blimp_filtered_counts(data_dir: Path) -> None:
    pairs = load_task("blimp_filtered", data_dir)
    assert len(pairs) == 59_875
    assert len({p.subtask for p in pairs}) == 67
    assert all(p.context == "" for p in pairs)
    # BLiMP ships 7 pairs whose two sentences are identical; strict scoring counts them wrong.
    assert sum(p.good == p.bad for p in pairs) == 7
    first = pairs[0]
    assert first.subtask == "adjunct_island"
    assert first.good == "Who should Derek hug after shocking Richard?"


def test_original_blimp_counts(data_dir: Path) -> None:
    pairs = load_task("blimp", data_dir)
    assert len(pairs) == 67_000
    assert set(Counter(p.subtask for p in pairs).values()) == {1000}


def test_supplement_counts(data_dir: Path) -> None:
    pairs = load_task("blimp_supplement", data_dir)
    assert len(pairs) == 5_218
    assert Counter(p.subtask for p in pairs) == SUPPLEMENT
    # Dialogue turns keep their line breaks: they are part of what is being tested.
    assert any("\n" in p.good for p in pairs if p.subtask == "turn_taking")


def test_ewok_counts_and_fields(data_dir: Path) -> None:
    pairs = load_task("ewok", data_dir)
    assert len(pairs) == 7_618
    assert Counter(p.subtask for p in pairs) == EWOK_DOMAINS
    # Rows come in (original, swapped) couples: Context1/2 and Target1/2 exchanged.
    original, swapped = pairs[0], pairs[1]
    assert original.context and original.context != swapped.context
    assert (original.good, original.bad) == (swapped.bad, swapped.good)


def test_ewok_is_never_extracted(data_dir: Path, tmp_path: Path) -> None:
    before = set((data_dir / "ewok").iterdir())
    load_task("ewok", data_dir)
    assert set((data_dir / "ewok").iterdir()) == before


def test_max_pairs_keeps_the_first_n_of_each_subtask(data_dir: Path) -> None:
    full = load_task("blimp_supplement", data_dir)
    quick = load_task("blimp_supplement", data_dir, max_pairs_per_subtask=10)
    assert len(quick) == 50
    for name in SUPPLEMENT:
        first_ten = [p for p in full if p.subtask == name][:10]
        assert [p for p in quick if p.subtask == name] == first_ten


def _copy_task(data_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(data_dir / "blimp_supplement", root / "blimp_supplement")
    return root


def test_malformed_json_names_file_and_line(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_task(data_dir, tmp_path)
    path = root / "blimp_supplement" / "hypernym.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:-5]  # truncated record on line 3
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskDataError, match=r"hypernym\.jsonl, line 3: not valid JSON"):
        load_task("blimp_supplement", root)


def test_missing_field_names_file_line_and_key(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_task(data_dir, tmp_path)
    path = root / "blimp_supplement" / "turn_taking.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[6])
    del record["sentence_bad"]
    lines[6] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskDataError, match=r"turn_taking\.jsonl, line 7: field 'sentence_bad'"):
        load_task("blimp_supplement", root)


def test_missing_folder_says_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError) as info:
        load_task("blimp_filtered", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "blimp_filtered") in message
    assert "BabyLM" in message and "--data-dir" in message
    with pytest.raises(TaskDataError, match="ewok_filtered.zip"):
        load_task("ewok", tmp_path)


def test_task_list_parsing() -> None:
    assert parse_task_list("blimp_filtered, ewok") == ["blimp_filtered", "ewok"]
    assert TASKS == {"blimp_filtered", "blimp", "blimp_supplement", "ewok", "entity_tracking",
                     "blimp_fast", "supplement_fast", "ewok_fast", "entity_tracking_fast",
                     "comps", "word_order", "wug_adj", "wug_past", "reading"}
    assert parse_task_list("entity_tracking") == ["entity_tracking"]
    with pytest.raises(ValueError, match="allowed"):
        parse_task_list("blimp_filtred")


def test_word_order_shuffles_each_blimp_sentence_the_same_way_every_time(data_dir: Path) -> None:
    pairs = load_task("word_order", data_dir, 3)
    blimp = load_task("blimp_filtered", data_dir, 3)
    assert [p.good for p in pairs] == [p.good for p in blimp]  # no BLiMP sentence is one word
    for pair in pairs:
        assert pair.bad != pair.good
        assert sorted(pair.bad.split()) == sorted(pair.good.split())
    # Seeded per sentence: a smaller sample shuffles its sentences exactly as the larger one.
    fewer = load_task("word_order", data_dir, 2)
    assert set(fewer) <= set(pairs)
    assert parse_task_list("word_order,ewok") == ["word_order", "ewok"]


def test_entity_tracking_counts_and_framing(data_dir: Path) -> None:
    items = load_task("entity_tracking", data_dir)
    assert Counter(p.subtask for p in items) == {
        f"{name}_{numops}_ops": count
        for name, counts in ENTITY_TRACKING.items() for numops, count in enumerate(counts)}
    assert {len(p.candidates) for p in items} == {5}
    # The text the pipeline scores is input_prefix + option; the prefix's final space is the
    # separator the suite puts between context and target.
    first = json.loads((data_dir / ET_FOLDER / "ambiref.jsonl").read_text().splitlines()[0])
    assert items[0].context + " " == first["input_prefix"]
    assert list(items[0].candidates) == first["options"]  # the right option first
    assert items[0].source.endswith("ambiref.jsonl, line 1")
    fast = load_task("entity_tracking_fast", data_dir)  # the regular file alone
    assert [p.candidates for p in fast] == [p.candidates for p in items
                                            if p.subtask.startswith("regular")]
    assert {subtask_group("entity_tracking_fast", p.subtask) for p in fast} == {"regular"}
    assert subtask_group("entity_tracking", "move_contents_3_ops") == "move_contents"
    assert subtask_group("ewok", "agent-properties") is None


def test_entity_tracking_max_pairs_keeps_the_first_n_of_each_subset(data_dir: Path) -> None:
    full = load_task("entity_tracking_fast", data_dir)
    quick = load_task("entity_tracking_fast", data_dir, max_pairs_per_subtask=2)
    assert len(quick) == 12  # six numops subsets, not the file's first two lines
    for numops in range(6):
        name = f"regular_{numops}_ops"
        assert [p for p in quick if p.subtask == name] == [p for p in full
                                                           if p.subtask == name][:2]


def _damaged_entity_tracking(data_dir: Path, tmp_path: Path, line: int, change) -> Path:
    """A data directory whose regular.jsonl has record ``line`` (1-based) passed through
    ``change`` (a dict in, a dict or a raw string out)."""
    root = tmp_path / "data"
    folder = root / ET_FOLDER
    folder.mkdir(parents=True)
    lines = (data_dir / ET_FOLDER / "regular.jsonl").read_text().splitlines()[:40]
    changed = change(json.loads(lines[line - 1]))
    lines[line - 1] = changed if isinstance(changed, str) else json.dumps(changed)
    (folder / "regular.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: json.dumps(r)[:-3], "not valid JSON"),
    (lambda r: {k: v for k, v in r.items() if k != "numops"}, "field 'numops'"),
    (lambda r: {**r, "numops": "2"}, "field 'numops'"),
    (lambda r: {**r, "input_prefix": r["input_prefix"].rstrip()}, "field 'input_prefix'"),
    (lambda r: {**r, "input_prefix": r["input_prefix"] + " "}, "field 'input_prefix'"),
    (lambda r: {**r, "options": r["options"][:1]}, "field 'options'"),
    (lambda r: {**r, "options": [" " + r["options"][0], *r["options"][1:]]}, "field 'options'"),
    (lambda r: {**r, "options": r["options"][:4]},
     r"4 options, but .*regular\.jsonl, line 1 has 5"),
])
def test_entity_tracking_errors_name_file_and_line(
    data_dir: Path, tmp_path: Path, change, message: str
) -> None:
    root = _damaged_entity_tracking(data_dir, tmp_path, 7, change)
    with pytest.raises(TaskDataError, match=rf"regular\.jsonl, line 7: {message}"):
        load_task("entity_tracking", root, max_pairs_per_subtask=1)  # every line is read


# The official fast sets (babylm-eval strict/evaluation_pipeline/collate_preds.py:
# BLIMP_FAST_SIZE, SUPPLEMENT_FAST_SIZE, EWOK_FAST_SIZE per subtask).
@pytest.mark.parametrize(("task", "subtasks", "per_subtask"), [
    ("blimp_fast", 67, 200), ("supplement_fast", 5, 50), ("ewok_fast", 11, 100)])
def test_the_official_fast_sets_have_their_official_sizes(data_dir: Path, task, subtasks,
                                                          per_subtask) -> None:
    pairs = load_task(task, data_dir)
    counts = Counter(p.subtask for p in pairs)
    assert len(counts) == subtasks and set(counts.values()) == {per_subtask}
    full = {"blimp_fast": "blimp_filtered", "supplement_fast": "blimp_supplement",
            "ewok_fast": "ewok"}[task]
    # rows of the full set, read by the same reader: every fast pair is a full-set pair
    assert {(p.subtask, p.context, p.good, p.bad) for p in pairs} <= {
        (p.subtask, p.context, p.good, p.bad) for p in load_task(full, data_dir)}


def test_ewok_fast_is_read_in_memory_and_never_written_in_plain_text(data_dir: Path) -> None:
    folder = data_dir / "evaluation_data" / "fast_eval"
    before = set(folder.iterdir())
    assert load_task("ewok_fast", data_dir)[0].context
    assert set(folder.iterdir()) == before
    assert "ewok_fast" in NO_PLAIN_TEXT


@pytest.mark.parametrize("task", ["blimp_fast", "supplement_fast"])
def test_a_damaged_fast_set_names_its_file_and_line(data_dir: Path, tmp_path: Path, task) -> None:
    folder = "evaluation_data/fast_eval/" + task
    shutil.copytree(data_dir / folder, tmp_path / folder)
    damaged = sorted((tmp_path / folder).glob("*.jsonl"))[1]
    lines = damaged.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6][:-10]
    damaged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=rf"{re.escape(str(damaged))}, line 7: not valid JSON"):
        load_task(task, tmp_path)


def _comps_record(concept: str, other: str, prop: str) -> str:
    """One line in the official COMPS format (the keys read_files.py's decode_comps reads)."""
    return json.dumps({"prefix_acceptable": f"{concept}", "prefix_unacceptable": f"{other}",
                       "property_phrase": prop, "property": prop, "acceptable_concept": concept,
                       "unacceptable_concept": other, "negative_sample_type": "taxonomic"})


def _write_comps(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "comps_base.jsonl").write_text("\n".join([
        _comps_record("A robin", "A table", "can fly."),
        _comps_record("A dog", "A rock", "has a tail."),
        _comps_record("A fish", "A chair", "can swim."),
    ]) + "\n")
    (folder / "comps_wugs_dist-before.jsonl").write_text(
        _comps_record("A wug is a bird. Therefore, a wug", "A dax is a stone. Therefore, a dax",
                      "can fly.") + "\n")
    return folder


def test_comps_reads_the_official_format(tmp_path: Path) -> None:
    folder = _write_comps(tmp_path / "comps")
    pairs = load_task("comps", tmp_path / "unused", comps_dir=folder)
    assert [p.subtask for p in pairs] == ["base"] * 3 + ["wugs_dist_before"]
    first = pairs[0]
    # one ending, two beginnings: the property is scored after each prefix
    assert (first.context, first.bad_context, first.good, first.bad) == (
        "A robin", "A table", "can fly.", "can fly.")
    assert first.contexts == ("A robin", "A table") and first.candidates == ("can fly.",) * 2
    assert first.source.endswith("comps_base.jsonl, line 1")
    # at its official place under the data directory, and --max-pairs per subset
    _write_comps(tmp_path / "data" / COMPS_DIR)
    kept = load_task("comps", tmp_path / "data", max_pairs_per_subtask=1)
    assert [(p.subtask, p.context) for p in kept] == [
        ("base", "A robin"), ("wugs_dist_before", "A wug is a bird. Therefore, a wug")]


def test_comps_errors_name_file_and_line(tmp_path: Path) -> None:
    folder = _write_comps(tmp_path / "comps")
    (folder / "comps_base.jsonl").write_text(
        _comps_record("A robin", "A table", "can fly.") + "\n" + json.dumps(
            {"prefix_acceptable": "A dog", "property_phrase": "barks."}) + "\n")
    with pytest.raises(TaskDataError, match=r"comps_base.jsonl, line 2: field "
                                            r"'prefix_unacceptable' is missing"):
        load_task("comps", tmp_path, comps_dir=folder)
    (folder / "comps_base.jsonl").write_text(_comps_record("A robin", "A table", "can fly."))
    (folder / "comps_other.jsonl").write_text(_comps_record("A", "B", "c.") + "\n")
    with pytest.raises(TaskDataError, match="comps_other.jsonl: not a COMPS file"):
        load_task("comps", tmp_path, comps_dir=folder)


def test_absent_comps_is_left_out_with_the_reason_not_a_crash(data_dir: Path,
                                                              tmp_path: Path) -> None:
    data, missing = load_tasks(["blimp_supplement", "comps"], data_dir, max_pairs_per_subtask=2,
                               comps_dir=tmp_path / "nowhere")
    assert set(data) == {"blimp_supplement"} and len(data["blimp_supplement"]) == 10
    assert missing["comps"].startswith("no data: COMPS is not in the data directory (looked "
                                       f"in {tmp_path / 'nowhere'}); get it from ")
    assert "--comps-dir" in missing["comps"] and "osf.io" in missing["comps"]
    # a task every copy of the data has is still refused at once when absent
    with pytest.raises(TaskDataError, match="blimp_filtered"):
        load_tasks(["blimp_filtered", "comps"], tmp_path)
