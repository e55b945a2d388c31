"""Fixtures for the capacity tests: the real fault catalog and a small two-region plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.config import parse_yaml
from workbench.faults import FaultCatalog

ROOT = Path(__file__).resolve().parents[3]

ALL_DEVICES = [
    "printer", "bill_validator", "cash_box", "card_reader", "touchscreen", "display", "ups",
    "network", "host_pc", "system_software", "exterior",
]  # fmt: skip
QUERY_DEVICES = [
    "printer", "touchscreen", "display", "ups", "network", "host_pc", "system_software",
    "exterior", "card_reader",
]  # fmt: skip

SMALL_PLAN = """\
name: small
years: 0.25
calendar:
  start_date: 2027-01-04
  holidays: [2027-01-05]
shifts:
  all: {start: 0, hours: 24}
  day: {start: 8, hours: 9, days: [mon, tue, wed, thu, fri]}
skills: {bill_payment: self_service, query_print: basic}
hotline: {agents: 4, call_minutes: {mean: 6}}
remote: {desk_engineers: 4, success_rate: 0.8, attempt_minutes: {mean: 20}}
parts: {lead_time_days: {mean: 2}, default_stock: 2}
standby: {per_centre: 2}
inspection: {minutes: {mean: 60}}
regions:
  - name: North
    centres:
      - name: A
        travel: {mean: 0.5}
        engineers: [{count: 2, shift: all, skills: [basic, self_service]}]
        fleet:
          - {profile: bill_payment, count: 40, installed: 2026-06-01}
          - {profile: query_print, count: 20, installed: 2026-01-01}
      - name: B
        travel: {mean: 0.7}
        engineers:
          - {count: 1, shift: all, skills: [self_service]}
          - {count: 1, shift: day, skills: [basic]}
        fleet: [{profile: bill_payment, count: 30, installed: 2026-06-01}]
  - name: South
    centres:
      - name: C
        travel: {mean: 0.6}
        engineers: [{count: 3, shift: all, skills: [basic, self_service]}]
        fleet:
          - {profile: bill_payment, count: 50, installed: 2026-06-01}
          - {profile: query_print, count: 30, installed: 2026-01-01}
"""


@pytest.fixture(scope="session")
def catalog() -> FaultCatalog:
    return FaultCatalog.load(ROOT / "devices" / "catalog.yaml")


@pytest.fixture(scope="session")
def profiles() -> dict[str, list[str]]:
    return {"bill_payment": ALL_DEVICES, "query_print": QUERY_DEVICES, "ticket": ALL_DEVICES[:3]}


@pytest.fixture(scope="session")
def inputs(catalog: FaultCatalog, profiles: dict[str, list[str]]) -> Inputs:
    return Inputs(catalog, profiles)


@pytest.fixture(scope="session")
def small_plan() -> Plan:
    return parse_yaml(SMALL_PLAN, Plan, "small.yaml")


@pytest.fixture(scope="session")
def small_plan_text() -> str:
    return SMALL_PLAN


@pytest.fixture()
def small_plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    return path
