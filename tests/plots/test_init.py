"""What every figure shares: the words-seen axis labels every tick in one style."""

from __future__ import annotations

import re

import pytest

from antlm.plots import pyplot, words_axis

SHORT = re.compile(r"^\d+(\.\d+)?[KMB]?$")  # antlm.units.short_count's style: 20K, 1.5M, 812


def _labels(low: float, high: float) -> tuple[list[str], list[str]]:
    """The major and minor tick labels that a drawn log words axis from ``low`` to ``high``
    shows (empty labels dropped)."""
    plt = pyplot()
    fig, axis = plt.subplots()
    axis.plot([low, high], [0, 1])
    words_axis(axis)
    axis.set_xlim(low, high)
    fig.canvas.draw()
    labels = tuple([t.get_text() for t in axis.get_xticklabels(minor=minor) if t.get_text()]
                   for minor in (False, True))
    plt.close(fig)
    return labels


@pytest.mark.parametrize("low, high", [(8e3, 5e4), (5e5, 4e6), (1e5, 1e9)])
def test_every_tick_label_of_a_words_axis_is_a_short_count(low, high):
    major, minor = _labels(low, high)
    assert major + minor, "no tick is labelled at all"
    assert all(SHORT.match(label) for label in major + minor), major + minor


def test_a_short_words_axis_labels_the_ticks_between_decades_like_the_decades():
    major, minor = _labels(8e3, 5e4)
    assert "10K" in major
    assert "20K" in minor  # matplotlib's own formatter writes 2x10^4 here


def test_a_long_words_axis_labels_decades_only():
    major, minor = _labels(1e5, 1e9)
    assert {"1M", "10M", "100M"} <= set(major)
    assert minor == []
