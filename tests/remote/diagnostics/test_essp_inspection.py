"""A kiosk whose validator requires encrypted SSP (``require_encryption: true`` in its profile)
still passes the quarterly inspection: the diagnostics' SSP host meets KEY NOT SET, negotiates a
key and carries on encrypted, and still names the validator's and the cash box's faults."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from diag_kiosk import Kiosk, busy, fast_profile, fault, running_kiosk

from remote.diagnostics import run

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kiosk() -> AsyncIterator[Kiosk]:
    with tempfile.TemporaryDirectory(prefix="wb-", dir="/tmp") as d:
        path = fast_profile(Path(d))
        data = yaml.safe_load(path.read_text())
        data["devices"]["bill_validator"]["require_encryption"] = True
        path.write_text(yaml.safe_dump(data))
        async for k in running_kiosk(path):
            yield k


async def validator_status(kiosk: Kiosk) -> dict:
    return (await kiosk.control.request("status"))["devices"]["bill_validator"]


@pytest.mark.timeout(30)
async def test_the_inspection_passes_on_a_validator_that_requires_encryption(kiosk: Kiosk) -> None:
    assert (await validator_status(kiosk))["essp"]["required"] is True
    results = await run(["inspection"], kiosk.endpoints, stimulus=kiosk.control)
    bad = [f"{r.test}={r.status}: {r.detail}" for r in results if r.status not in ("pass", "skip")]
    assert not bad
    by_name = {r.test: r for r in results}
    assert by_name["bill_validator"].status == "pass"
    assert by_name["cash_box"].status == "pass"
    essp = (await validator_status(kiosk))["essp"]
    assert essp["key_set"] is True and essp["count"] > 0  # the money commands went encrypted


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("fault_id", "test"),
    [("bill_validator.unsafe_jam", "bill_validator"), ("cash_box.full", "cash_box")],
)
async def test_faults_are_still_named_over_encrypted_ssp(
    kiosk: Kiosk, fault_id: str, test: str
) -> None:
    async with fault(kiosk, fault_id):
        (result,) = await run([test], kiosk.endpoints, stimulus=kiosk.control)
        assert result.status in ("fail", "warn") and result.suspect == fault_id, result


@pytest.mark.timeout(30)
async def test_a_late_encrypted_reply_is_not_taken_for_the_next_sessions_sync(
    kiosk: Kiosk,
) -> None:
    """The cash box check's last command (GET COUNTERS, encrypted, flag set) answered 600 ms
    late: the replies to its retries reach the validator check's SYNC, flag set too. Before, the
    SYNC took one (``command 0x11 answered 0x7E, not OK``) and a healthy validator failed as
    ``bill_validator.no_response``."""
    async with busy(kiosk, "bill_validator", 600):
        results = await run(["cash_box", "bill_validator"], kiosk.endpoints, timeout_s=0.25)
    assert [(r.test, r.status, r.suspect) for r in results] == [
        ("cash_box", "pass", None),
        ("bill_validator", "pass", None),
    ], results
