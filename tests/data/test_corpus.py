import warnings

import pytest

from antlm.data.corpus import CorpusError, clean_line, load_corpus


def test_switchboard_tags_and_whitespace_are_cleaned():
    assert clean_line("switchboard", "A:\tWell,   you  know.\n") == "Well, you know."
    assert clean_line("cbt", "  It was\ta dark night .  ") == "It was a dark night ."
    assert clean_line("cbt", "A:\tkept") == "A: kept"  # only Switchboard has speaker tags


def test_reads_both_layouts_at_once(data_dir):
    corpus = load_corpus(data_dir, ["babylm_10M", "babylm_2023_partial"], "train")
    assert set(corpus.words_per_source) == {
        "babylm_10M/switchboard", "babylm_2023_partial/aochildes", "babylm_2023_partial/cbt",
        "babylm_2023_partial/children_stories", "babylm_2023_partial/switchboard",
    }
    # PROVENANCE: 146,789 words with speaker tags in the 2024 file, ~128.8k without.
    assert 125_000 < corpus.words_per_source["babylm_10M/switchboard"] < 132_000
    assert not any(doc.startswith(("A:", "B:")) for doc in corpus.documents[:1000])
    dev = load_corpus(data_dir, ["babylm_2023_partial"], "dev", sources=["cbt"])
    assert set(dev.words_per_source) == {"babylm_2023_partial/cbt"}


def test_word_budget_is_deterministic_and_respected(data_dir):
    args = (data_dir, ["babylm_10M", "babylm_2023_partial"], "train")
    first = load_corpus(*args, max_words=50_000, seed=3)
    again = load_corpus(*args, max_words=50_000, seed=3)
    other = load_corpus(*args, max_words=50_000, seed=4)
    assert first.documents == again.documents
    assert first.documents != other.documents
    assert 50_000 <= first.n_words < 50_000 + 32 * 200  # at most one chunk over the budget
    assert len(first.words_per_source) >= 3  # sampled across sources


def test_missing_folders_and_sources_are_explained(tmp_path, data_dir):
    with pytest.raises(CorpusError, match="corpus folder .* not found"):
        load_corpus(tmp_path, ["babylm_10M"], "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no train folder"):
        load_corpus(tmp_path, ["empty"], "train")
    with pytest.raises(CorpusError, match="wikipedia"):
        load_corpus(data_dir, ["babylm_2023_partial"], "train", sources=["cbt", "wikipedia"])


def test_invalid_utf8_is_reported_with_its_line(tmp_path):
    folder = tmp_path / "corpus" / "train_10M"
    folder.mkdir(parents=True)
    (folder / "bad.train").write_bytes(b"fine line\nbroken \xff byte\nlast\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_corpus(tmp_path, ["corpus"], "train")
    assert any("bad.train" in str(w.message) and "line 2" in str(w.message) for w in caught)
    assert corpus.documents[1] == "broken \ufffd byte"
