"""bench/harness: the --batch and --iters/--seconds parsing bench and deploy share."""

from __future__ import annotations

import pytest

from objectix_edge.bench.harness import COMMAND_ITERS, parse_batches, timed_by
from objectix_edge.errors import InputError


def test_batches_are_sorted_without_repeats() -> None:
    assert parse_batches("4,1,4,16") == (1, 4, 16)


@pytest.mark.parametrize("text", ["", "1,x", "0", "-2,4"])
def test_bad_batches_name_the_flag(text: str) -> None:
    with pytest.raises(InputError, match="--batch .*comma-separated positive integers"):
        parse_batches(text)


def test_iters_or_seconds_never_both() -> None:
    assert timed_by(None, None) == (COMMAND_ITERS, None)
    assert timed_by(7, None) == (7, None)
    assert timed_by(None, 0.5) == (None, 0.5)
    with pytest.raises(InputError, match="give either --iters or --seconds, not both"):
        timed_by(7, 0.5)
