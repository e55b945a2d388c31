"""Resizing a plan for what-if questions: engineers or terminals spread proportionally over groups.

Sweeps (``--vary engineers=150:250:10``) and the sizing search build every candidate plan
through these functions, so a count always lands on the same groups in the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from workbench.capacity.config import Plan
from workbench.errors import ConfigError

VARIABLES: dict[str, str] = {
    "engineers": "field engineers in the whole organisation",
    "terminals": "terminals in the whole fleet",
    "hotline": "hotline agents",
    "desk": "remote desk engineers",
    "success_rate": "share of remote attempts that fix the fault",
    "standby": "standby terminals per centre",
}
"""What ``--vary NAME=...`` may change, and what it means."""


def _spread(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder; ties to the first)."""
    if not weights:
        return []
    base = sum(weights)
    if base == 0:
        weights, base = [1] * len(weights), len(weights)
    exact = [total * w / base for w in weights]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _groups(
    data: dict[str, Any], key: str, regions: set[str] | None = None
) -> list[dict[str, Any]]:
    return [
        group
        for region in data["regions"]
        if regions is None or region["name"] in regions
        for centre in region["centres"]
        for group in centre[key]
    ]


def _resize(plan: Plan, key: str, total: int, regions: set[str] | None = None) -> Plan:
    if total < 0:
        raise ConfigError(f"{key}(={total}) must be >= 0")
    data = plan.model_dump()
    groups = _groups(data, key, regions)
    for group, n in zip(groups, _spread(total, [g["count"] for g in groups]), strict=True):
        group["count"] = n
    return Plan.model_validate(data)


def with_engineers(plan: Plan, total: int) -> Plan:
    """The plan with ``total`` engineers, spread over its engineer groups in proportion."""
    return _resize(plan, "engineers", total)


def with_region_engineers(plan: Plan, counts: dict[str, int]) -> Plan:
    """The plan with the given number of engineers in each named region."""
    for name, n in counts.items():
        if name not in {r.name for r in plan.regions}:
            raise ConfigError(
                f"unknown region {name!r}; regions: {', '.join(r.name for r in plan.regions)}"
            )
        plan = _resize(plan, "engineers", n, {name})
    return plan


def with_terminals(plan: Plan, total: int) -> Plan:
    """The plan with ``total`` terminals, spread over its fleet groups in proportion."""
    return _resize(plan, "fleet", total)


def _setter(path: tuple[str, ...], cast: Callable[[float], Any]) -> Callable[[Plan, float], Plan]:
    def apply(plan: Plan, value: float) -> Plan:
        data = plan.model_dump()
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = cast(value)
        return Plan.model_validate(data)

    return apply


_SETTERS: dict[str, Callable[[Plan, float], Plan]] = {
    "engineers": lambda p, v: with_engineers(p, int(v)),
    "terminals": lambda p, v: with_terminals(p, int(v)),
    "hotline": _setter(("hotline", "agents"), int),
    "desk": _setter(("remote", "desk_engineers"), int),
    "success_rate": _setter(("remote", "success_rate"), float),
    "standby": _setter(("standby", "per_centre"), int),
}


def vary(plan: Plan, name: str, value: float) -> Plan:
    """The plan with one variable set; errors name the variable and the valid ones."""
    setter = _SETTERS.get(name)
    if setter is None:
        raise ConfigError(f"cannot vary {name!r}; valid: {', '.join(VARIABLES)}")
    try:
        return setter(plan, value)
    except ValidationError as exc:  # its text ends in a link to pydantic's docs, not the reason
        raise ConfigError(f"{name}={value:g}: {exc.errors()[0]['msg']}") from None
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"{name}={value:g}: {first[-1].strip() if first else exc}") from None


def parse_vary(spec: str) -> tuple[str, list[float]]:
    """Parse ``NAME=START:STOP:STEP`` (STOP included) or ``NAME=A,B,C``."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not values:
        raise ConfigError(f"--vary {spec!r}: expected NAME=START:STOP:STEP or NAME=A,B,C")
    if name not in VARIABLES:
        raise ConfigError(f"--vary {spec!r}: cannot vary {name!r}; valid: {', '.join(VARIABLES)}")
    try:
        if ":" in values:
            parts = [float(x) for x in values.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            start, stop, step = parts
            count = math.floor((stop - start) / step + 1e-9) + 1
            out = [start + i * step for i in range(count)]
        else:
            out = [float(x) for x in values.split(",")]
    except ValueError:
        raise ConfigError(
            f"--vary {spec!r}: expected NAME=START:STOP:STEP with STEP > 0 and STOP >= START, "
            "or NAME=A,B,C"
        ) from None
    return name, [int(v) if v.is_integer() else v for v in out]
