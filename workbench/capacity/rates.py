"""The fault rates a plan uses: per fault mode, the rate, where it comes from, and who handles it.

The fault catalog names every fault mode and carries a training MTBF; a plan's ``rates:``
section overrides the rate for field planning, with its basis (a cited public source, the
catalog's MTBF, or an assumption marked as one) and its handler (branch staff, the hotline,
the remote desk, an engineer on site). A mode the plan does not list keeps the catalog's
MTBF and goes to the remote desk if the catalog says it is remote-fixable, else on site.
Branch staff faults (paper rolls, cash collection) never reach the support organisation:
the model counts them but sends no one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.capacity.config import Basis, Handler, Plan
from workbench.errors import ConfigError
from workbench.faults import FaultCatalog, FaultMode

HOURS_PER_YEAR = 365 * 24.0


@dataclass(frozen=True, slots=True)
class Rate:
    """One fault mode as the plan sees it."""

    mode: FaultMode
    per_year: float
    basis: Basis
    source: str
    handler: Handler

    @property
    def per_hour(self) -> float:
        """The rate per terminal-hour (the model's unit)."""
        return self.per_year / HOURS_PER_YEAR


def _default(mode: FaultMode) -> Rate:
    if mode.mtbf_hours:
        per_year, source = HOURS_PER_YEAR / mode.mtbf_hours, f"catalog MTBF {mode.mtbf_hours:g} h"
    else:
        per_year, source = 0.0, "catalog: by wear or injection only (no MTBF)"
    handler = Handler.remote if mode.remote_fixable else Handler.onsite
    return Rate(mode, per_year, Basis.catalog, source, handler)


class RateError(ConfigError):
    """A rate entry the catalog refuses; ``fault`` is its key in the plan's ``rates:``, so the
    command that loaded the plan file can name the entry's line."""

    def __init__(self, fault: str, what: str) -> None:
        super().__init__(f"rates.{fault}: {what}")
        self.fault = fault


def resolve(plan: Plan, catalog: FaultCatalog) -> dict[str, Rate]:
    """Every catalog mode with the rate, basis and handler the plan gives it."""
    unknown = [fid for fid in plan.rates if fid not in catalog]
    if unknown:
        raise RateError(unknown[0], catalog.unknown(unknown[0]))
    out: dict[str, Rate] = {}
    for fid, mode in catalog.items():
        entry = plan.rates.get(fid)
        if entry is None:
            out[fid] = _default(mode)
            continue
        if entry.handler is Handler.remote and not mode.remote_fixable:
            raise RateError(fid, "handler 'remote', but the catalog says it is not remote-fixable")
        if entry.per_year is None:
            per_year = HOURS_PER_YEAR / mode.mtbf_hours if mode.mtbf_hours else 0.0
        else:
            per_year = entry.per_year
        out[fid] = Rate(mode, per_year, entry.basis, entry.source, entry.handler)
    return out


def devices_per_terminal(
    plan: Plan, profiles: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, int]]:
    """Terminals carrying each device, per profile's device list: ``{device: {profile: n}}``."""
    counts: dict[str, int] = {}
    for region in plan.regions:
        for centre in region.centres:
            for group in centre.fleet:
                counts[group.profile] = counts.get(group.profile, 0) + group.count
    out: dict[str, dict[str, int]] = {}
    for profile, n in counts.items():
        for device in dict.fromkeys(profiles.get(profile, ())):
            out.setdefault(device, {})[profile] = n
    return out


def fleet_year(
    plan: Plan, rates: Mapping[str, Rate], profiles: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Expected faults per year of the whole fleet, per fault mode."""
    carrying = devices_per_terminal(plan, profiles)
    return {
        fid: r.per_year * sum(carrying.get(r.mode.device, {}).values()) for fid, r in rates.items()
    }
