"""Faults on a timeline: catalog faults and wire faults raised and cleared at simulated times."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from workbench.errors import ConfigError

PROFILE = """name: timeline
devices:
  bill_validator:
    transports: [serial]
faults:
  schedule:
    - {at: 10m, inject: cash_box.removed, clear_after: 5m}
    - at: 1h
      toxic: {device: bill_validator, type: latency, attributes: {latency: 400}}
      clear_after: 30m
"""


def test_timeline_raises_and_clears_faults_and_toxics(tmp_path: Path) -> None:
    path = tmp_path / "timeline.yaml"
    path.write_text(PROFILE)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-T", load_profile(path), default_catalog())
    terminal.start()
    validator = terminal.devices["bill_validator"]
    env.run(until=2 * 3600)
    timeline = [(t, e) for t, e in validator.log if e.startswith(("fault", "clear", "toxic"))]
    assert timeline == [
        (600.0, "fault id=cash_box.removed"),
        (900.0, "clear id=cash_box.removed"),
        (3600.0, "toxic name=latency_downstream type=latency"),
        (5400.0, "toxic_removed name=latency_downstream"),
    ]
    assert terminal.toxics() == {}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "{at: 1h, toxic: {device: printer, type: latency}}",
            "no device 'printer' to put a toxic on",
        ),
        ("{at: 1h, toxic: {device: bill_validator, type: lag}}", "unknown toxic type 'lag'"),
        (
            "{at: 1h, toxic: {device: bill_validator, type: drop, attributes: {ratio: 1}}}",
            "toxic 'drop' has no attribute 'ratio'; attributes: rate",
        ),
    ],
)
def test_bad_scheduled_toxic_is_refused_naming_the_item(
    tmp_path: Path, item: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.split("faults:")[0] + f"faults:\n  schedule:\n    - {item}\n")
    with pytest.raises(ConfigError) as info:
        Terminal(simpy.Environment(), "KSK-T", load_profile(path), default_catalog())
    line = path.read_text().splitlines().index(f"    - {item}") + 1
    assert str(info.value).startswith(f"{path}:{line}: faults.schedule.0: ")
    assert message in str(info.value)


def test_an_item_names_a_fault_or_a_toxic(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.split("faults:")[0] + "faults:\n  schedule:\n    - {at: 1h}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:7: faults.schedule.0: .*either 'inject'"):
        load_profile(path)
