"""A live run or a class refuses what it cannot run before it makes anything: a speed live time
cannot keep, and a support CA the trainer named that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.classroom import Classroom
from scenarios.library import load
from scenarios.live import LiveScenario
from workbench.errors import ConfigError

pytestmark = pytest.mark.timeout(60)


async def test_a_class_at_speed_0_is_refused_before_a_trainee_is_seated(tmp_path: Path) -> None:
    # the speed was refused by the kiosks' clock, after each trainee's key and certificate
    state = tmp_path / "state"
    with pytest.raises(ConfigError, match=r"^speed\(=0\) must be > 0 and at most 100000$"):
        async with Classroom(load("p3-paper-out"), state, trainees=2, speed=0):
            pass
    assert not state.exists()


async def test_a_named_ca_that_is_not_there_is_refused_not_made(tmp_path: Path) -> None:
    # 'scenario run --live --ca /typo' made a new CA at /typo, which no trainee's grant trusted
    typo = tmp_path / "typo"
    with pytest.raises(ConfigError) as info:
        async with LiveScenario(
            load("p3-paper-out"), tmp_path / "state", ["KSK-0001"], ca_dir=typo
        ):
            pass
    assert str(info.value) == (
        f"{typo}: not a CA directory (run `workbench remote ca init --dir {typo}`)"
    )
    assert not typo.exists()
