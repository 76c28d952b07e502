import pytest

from antlm.units import CHALLENGE_MILESTONES, format_count, parse_count, parse_milestones


@pytest.mark.parametrize(
    ("text", "words"),
    [("100M", 100_000_000), ("10_000_000", 10_000_000), ("1.5M", 1_500_000), ("250k", 250_000),
     ("1B", 10**9), (" 2 G ", 2 * 10**9), ("1,000", 1000), (12, 12), (3e6, 3_000_000),
     (".5M", 500_000)],
)
def test_counts_read_as_people_write_them(text, words):
    assert parse_count(text) == words


@pytest.mark.parametrize("text", ["1.0000005M", "ten", "5MB", "-1M", "", True, 2.5])
def test_bad_counts_are_refused(text):
    with pytest.raises(ValueError, match="number of words"):
        parse_count(text)


def test_names_are_exact_and_follow_the_pipeline():
    # babylm/evaluation-pipeline-2025, eval_zero_shot_fast_all_revisions.sh: chck_1M .. chck_1000M
    assert [format_count(n) for n in (10**6, 10**9, 10_000, 1_500_000, 1234)] == [
        "1M", "1000M", "10K", "1500K", "1234"]


def test_the_challenge_milestones():
    milestones = parse_milestones(CHALLENGE_MILESTONES)
    assert milestones[:10] == [m * 10**6 for m in range(1, 11)]
    assert milestones[10:19] == [m * 10**6 for m in range(20, 101, 10)]
    assert milestones[19:] == [m * 10**6 for m in range(200, 1001, 100)]
    assert len(milestones) == 28


def test_milestone_rules_and_lists():
    assert parse_milestones("10K..30K step 10K, 5K, 20K") == [5000, 10_000, 20_000, 30_000]
    assert parse_milestones("1.5M..3M step 0.5M") == [1_500_000, 2_000_000, 2_500_000, 3_000_000]
    assert parse_milestones([2000, "1K"]) == [1000, 2000]
    assert parse_milestones(None) == parse_milestones([]) == parse_milestones("") == []
    for bad, fragment in [("1M..10M", "neither a size"), ("10M..1M step 1M", "FIRST"),
                          ("0", "positive"), ("1M..2M step 0", "positive step")]:
        with pytest.raises(ValueError, match=fragment):
            parse_milestones(bad)
