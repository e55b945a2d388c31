"""Random bytes at every port kind of a live kiosk (ptys, raw TCP, HTTP, Modbus), a few seconds
each; afterwards every device still answers a valid request, with no reset in between."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from devices.kiosk import KioskHost

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import port_fuzz

SEED = 20261201
SECONDS = 1.0


@pytest.mark.timeout(55)
async def test_every_device_answers_after_random_bytes_on_every_port_kind(state_dir: Path) -> None:
    rng = random.Random(SEED)
    async with KioskHost(state_dir, "bill_payment", ["KSK-0001"], speed=10) as host:
        manifest = host.endpoints["KSK-0001"]
        kinds = port_fuzz.ports(manifest)
        assert set(kinds) == set(port_fuzz.KINDS)  # the profile has every port kind
        assert not await port_fuzz.answers(manifest)  # all answer before
        for kind in port_fuzz.KINDS:
            sent = await port_fuzz.fuzz(manifest, kind, SECONDS, rng)
            assert all(n > 0 for n in sent.values()), (kind, sent)
            quiet = await port_fuzz.answers(manifest)
            assert not quiet, f"seed {SEED}, after random bytes on the {kind} ports: {quiet}"
