"""Erlang C through the Erlang B recursion, and the model reduced to M/M/c against it."""

from __future__ import annotations

import pytest

from workbench.capacity.erlang import check_mmc, erlang_b, erlang_c, mean_wait
from workbench.errors import ConfigError

# Reference values (docs/performance.md): (lambda, mu, c) -> probability of waiting, mean wait.
REFERENCE = [
    ((10, 1, 12), 0.449388, 0.224694),
    ((50, 4, 15), 0.401302, 0.040130),
    ((9, 1, 10), 0.668732, 0.668732),
    ((100, 0.5, 210), 0.375615, 0.075123),
]


@pytest.mark.parametrize(("params", "p_wait", "wait"), REFERENCE)
def test_erlang_c_matches_reference_values(
    params: tuple[float, float, int], p_wait: float, wait: float
) -> None:
    assert erlang_c(*params) == pytest.approx(p_wait, abs=1e-6)
    assert mean_wait(*params) == pytest.approx(wait, abs=1e-6)


def test_erlang_b_recursion_is_stable_at_hundreds_of_servers() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert 0 < erlang_b(2000, 1900.0) < 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, 1, 10), "grows without bound"),
        ((0, 1, 3), "arrival rate(=0) must be > 0"),
        ((1, 0, 3), "service rate(=0) must be > 0"),
        ((1, 1, 0), "servers(=0) must be >= 1"),
    ],
)
def test_bad_queues_are_refused_with_the_value(
    args: tuple[float, float, int], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        erlang_c(*args)


# Moderate, busy and heavy (load 0.9) queues: 8 replications x 100,000 customers each.
SIMULATED = [(10, 1, 12), (50, 4, 15), (9, 1, 10)]


@pytest.mark.parametrize("params", SIMULATED)
def test_reduced_model_agrees_with_erlang_c(params: tuple[float, float, int]) -> None:
    check = check_mmc(*params, customers=100_000, reps=8, seed=1, workers=2)
    assert check.p_wait_error < 0.02
    assert check.p_wait.contains(check.theory_p_wait)
    assert check.mean_wait.contains(check.theory_mean_wait)
    assert check.observed_wait.contains(check.theory_mean_wait)
    assert check.mean_wait_error < 0.05


def test_reduced_model_is_deterministic_given_the_seed() -> None:
    a = check_mmc(5, 1, 7, customers=5_000, reps=2, seed=3)
    b = check_mmc(5, 1, 7, customers=5_000, reps=2, seed=3)
    assert a.to_json() == b.to_json()
