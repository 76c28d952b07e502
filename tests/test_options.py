"""The ranges of numeric options: one definition, read alike by argparse and the API."""

from __future__ import annotations

import argparse

import pytest

from antlm.errors import AntlmError
from antlm.options import BATCH_SIZE, MAX_PAIRS, STOP_AFTER_EPOCHS, OptionError


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "5"])
def test_the_api_refuses_a_value_out_of_range_naming_keyword_and_range(value):
    with pytest.raises(OptionError) as info:
        BATCH_SIZE.check(value)
    assert str(info.value).startswith(f"batch_size={value!r}: must be a whole number of at "
                                       "least 1")
    assert isinstance(info.value, AntlmError)


def test_none_means_not_given_only_where_that_is_allowed():
    assert MAX_PAIRS.check(None) is None
    assert MAX_PAIRS.check(1) == 1
    with pytest.raises(OptionError, match="batch_size=None"):
        BATCH_SIZE.check(None)


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "many"])
def test_the_command_line_refuses_the_same_values(text):
    with pytest.raises(argparse.ArgumentTypeError, match="must be a whole number of at least 1"):
        MAX_PAIRS.parse(text)
    assert MAX_PAIRS.parse("7") == 7


def test_a_number_that_need_not_be_whole_is_bounded_above_its_minimum():
    assert STOP_AFTER_EPOCHS.parse("0.5") == 0.5
    assert STOP_AFTER_EPOCHS.check(None) is None
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(OptionError, match="stop_after_epochs=.*: must be a number greater "
                                              "than 0"):
            STOP_AFTER_EPOCHS.check(bad)
