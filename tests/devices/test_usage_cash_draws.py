"""The cash payment's draws taken in one call (devices.usage_cash._below, and uniform written out)
give what random.Random's own methods give and leave the generator in the same state: the
simulated customers' notes and reach times stay the model's."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.usage_cash import _below


@given(st.integers(0, 2**32), st.integers(1, 70), st.lists(st.integers(1, 500), min_size=1))
def test_below_draws_as_randint_and_choice_do(seed: int, n: int, notes: list[int]) -> None:
    mine, theirs = random.Random(seed), random.Random(seed)
    for _ in range(5):
        assert 1 + _below(mine.getrandbits, n) == theirs.randint(1, n)
        assert notes[_below(mine.getrandbits, len(notes))] == theirs.choice(notes)
        assert 2.0 + 3.0 * mine.random() == theirs.uniform(2.0, 5.0)
    assert mine.getstate() == theirs.getstate()


def test_nothing_to_choose_from_is_refused_as_choice_refuses_it() -> None:
    with pytest.raises(IndexError):
        _below(random.Random(1).getrandbits, 0)
    with pytest.raises(IndexError):
        random.Random(1).choice([])
