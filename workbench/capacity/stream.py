"""The fault stream of a fleet: which faults arrive, when, where, and every random draw they need.

One pooled source for the whole fleet (total rate = the sum of the plan's rates over every
terminal's devices, branch-staff faults left out): each fault picks a terminal group and a
fault mode by rate, and gets all of its random durations at once. The draws are made in
numpy chunks and every fault gets every draw whatever its route, so a fault's durations
depend on its index in the stream alone: two plans on the same seed see the same faults
(common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.capacity.config import Centre, Handler, Plan
from workbench.capacity.rates import Rate
from workbench.errors import ConfigError
from workbench.faults import FaultCatalog, FaultMode

HOTLINE, REMOTE_DESK, ONSITE = 0, 1, 2
"""Who a fault goes to first (branch-staff faults never enter the model)."""
_ROUTE = {Handler.hotline: HOTLINE, Handler.remote: REMOTE_DESK, Handler.onsite: ONSITE}


@dataclass(frozen=True, slots=True)
class Profile:
    """The fault modes of one terminal profile that reach support, cumulated by rate."""

    modes: tuple[FaultMode, ...]
    cum: tuple[float, ...]
    rate: float
    routes: tuple[int, ...]
    rates: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Terminals of one profile at one centre (warranty end in model hours)."""

    centre: int
    region: int
    profile: Profile
    skill: int
    count: int
    warranty_end: float


def profiles_of(
    plan: Plan,
    catalog: FaultCatalog,
    device_lists: Mapping[str, Sequence[str]],
    rates: dict[str, Rate],
) -> dict[str, Profile]:
    """Per terminal profile: the fault modes that reach support, with their rates and routes."""
    devices = {**plan.profiles, **{k: list(v) for k, v in device_lists.items()}}
    known = set(catalog.devices)
    out: dict[str, Profile] = {}
    for name in plan.skills:
        if name not in devices:
            raise ConfigError(
                f"profile {name!r} has no device list; known: {', '.join(sorted(devices))}"
            )
        unknown = [d for d in devices[name] if d not in known]
        if unknown:
            raise ConfigError(
                f"profile {name!r}: no fault modes for device {unknown[0]!r} in the catalog"
            )
        chosen = [
            rates[m.id]
            for d in dict.fromkeys(devices[name])
            for m in catalog.for_device(d)
            if rates[m.id].per_hour > 0 and rates[m.id].handler is not Handler.staff
        ]
        cum, total = [], 0.0
        for r in chosen:
            total += r.per_hour
            cum.append(total)
        out[name] = Profile(
            tuple(r.mode for r in chosen),
            tuple(cum),
            total,
            tuple(_ROUTE[r.handler] for r in chosen),
            tuple(r.per_hour for r in chosen),
        )
    return out


class FaultStream:
    """Chunks of faults for one replication, drawn from a numpy generator seeded per replication."""

    def __init__(
        self,
        plan: Plan,
        groups: list[Group],
        group_first: list[int],
        group_cum: list[float],
        centres: list[Centre],
        profiles: list[Profile],
        seed: int,
    ) -> None:
        self.plan, self.groups, self.group_first, self.group_cum = (
            plan,
            groups,
            group_first,
            group_cum,
        )
        self.total_rate = group_cum[-1] if group_cum else 0.0
        self.centres, self.profiles = centres, profiles
        self.profile_index = {id(p): i for i, p in enumerate(profiles)}
        sigma2 = math.log1p(plan.repair.cv**2)
        self.repair_sigma = math.sqrt(sigma2)
        self.repair_mu = [
            np.array([math.log(m.repair_minutes / 60) - sigma2 / 2 for m in p.modes] or [0.0])
            for p in profiles
        ]
        self.rng = np.random.default_rng(seed)

    def draw(self, size: int) -> list[np.ndarray]:
        """The next ``size`` faults of the stream, every random draw made at once (numpy).

        Columns: gap to the previous fault, group, mode index, terminal, call, first-line
        attempt, whether it works, travel, repair, part lead time, second travel. Every fault
        gets every draw whatever its route, so a fault's durations depend on its index
        alone and two plans on the same seed see the same faults (common random numbers).
        """
        rng, plan, groups = self.rng, self.plan, self.groups
        gaps = rng.exponential(1 / self.total_rate, size)
        g = np.minimum(
            np.searchsorted(self.group_cum, rng.random(size) * self.total_rate, side="right"),
            len(groups) - 1,
        )
        u_mode, u_term, u_ok = rng.random(size), rng.random(size), rng.random(size)
        z = rng.standard_normal((6, size))
        u = rng.random((5, size))
        prof_of = np.array([self.profile_index[id(grp.profile)] for grp in groups])[g]
        centre_of = np.array([grp.centre for grp in groups])[g]
        k = np.zeros(size, dtype=np.int64)
        repair_mu = np.zeros(size)
        route = np.zeros(size, dtype=np.int64)
        for p, prof in enumerate(self.profiles):
            m = prof_of == p
            k[m] = np.minimum(
                np.searchsorted(prof.cum, u_mode[m] * prof.rate, side="right"),
                len(prof.modes) - 1,
            )
            repair_mu[m] = self.repair_mu[p][k[m]]
            route[m] = np.asarray(prof.routes)[k[m]]
        terminal = np.array(self.group_first)[g] + u_term * np.array([x.count for x in groups])[g]
        hot, remote = plan.hotline, plan.remote
        call = hot.call_minutes.transform(z[0], u[0], 1 / 60)
        tried = np.where(
            route == REMOTE_DESK,
            remote.attempt_minutes.transform(z[1], u[1], 1 / 60),
            np.where(route == HOTLINE, hot.guided_minutes.transform(z[1], u[1], 1 / 60), 0.0),
        )
        ok = np.where(
            route == REMOTE_DESK,
            u_ok < remote.success_rate,
            (route == HOTLINE) & (u_ok < hot.guided_success),
        )
        travel, travel2 = np.zeros(size), np.zeros(size)
        for c, centre in enumerate(self.centres):
            m = centre_of == c
            if m.any():
                travel[m] = centre.travel.transform(z[2][m], u[2][m])
                travel2[m] = centre.travel.transform(z[3][m], u[3][m])
        repair = np.exp(repair_mu + self.repair_sigma * z[4])
        lead = plan.parts.lead_time_days.transform(z[5], u[4], 24.0)
        return [gaps, g, k, terminal.astype(np.int64), call, tried, ok, travel, repair, lead,
                travel2]  # fmt: skip

    def until(self, horizon: float) -> Faults:
        """Every fault reported before ``horizon``, drawn chunk by chunk as :meth:`draw` makes them."""
        chunk = max(1024, min(65_536, int(self.total_rate * horizon / 8) + 1))
        parts: list[list[np.ndarray]] = []
        drawn = 0.0
        while self.total_rate > 0:
            cols = self.draw(chunk)
            parts.append(cols)
            drawn += float(cols[0].sum())
            if drawn >= horizon * (1 + 1e-9) + 1:  # well past it: the sums below decide exactly
                break
        if not parts:
            return Faults.empty()
        whole = [np.concatenate(c) for c in zip(*parts, strict=True)]
        t0 = np.cumsum(whole[0])
        n = int(np.searchsorted(t0, horizon, side="left"))
        _, g, k, terminal, call, tried, ok, travel, repair, lead, travel2 = (
            c[:n] for c in whole
        )  # fmt: skip
        per_group = np.array([self.profile_index[id(grp.profile)] for grp in self.groups])
        prof = per_group[g]
        # Per (profile, mode): severity, route, part, mean repair; flattened with offsets.
        offset = np.cumsum([0] + [len(p.modes) for p in self.profiles])
        flat = offset[prof] + k
        modes = [m for p in self.profiles for m in p.modes]
        has_part = np.array([m.part is not None for m in modes] or [False])[flat]
        if not self.repair_sigma:
            repair = np.array([m.repair_minutes / 60 for m in modes] or [0.0])[flat]
        return Faults(
            t0=t0[:n],
            group=g,
            mode=flat,
            terminal=terminal,
            call=call,
            tried=tried,
            ok=ok,
            travel=travel,
            repair=repair,
            lead=np.where(has_part, lead, 0.0),
            travel2=np.where(has_part, travel2, 0.0),
            route=np.array([r for p in self.profiles for r in p.routes] or [0])[flat],
            modes=modes,
        )


@dataclass(frozen=True)
class Faults:
    """Every fault of one replication as columns (numpy arrays, one entry per fault, in report
    order): report time, terminal group, mode (an index into ``modes``), terminal, and the
    durations it will need (hours): call, first-line attempt, whether that works, travel,
    repair, part lead time and second travel (0 without a part), and its first route."""

    t0: np.ndarray
    group: np.ndarray
    mode: np.ndarray
    terminal: np.ndarray
    call: np.ndarray
    tried: np.ndarray
    ok: np.ndarray
    travel: np.ndarray
    repair: np.ndarray
    lead: np.ndarray
    travel2: np.ndarray
    route: np.ndarray
    modes: list[FaultMode]

    @staticmethod
    def empty() -> Faults:
        """No faults at all (a fleet with no rate)."""
        f, i = np.zeros(0), np.zeros(0, dtype=np.int64)
        return Faults(f, i, i, i, f, f, np.zeros(0, dtype=bool), f, f, f, f, i, [])

    def __len__(self) -> int:
        return int(self.t0.size)
