"""The diagnostics registry and suites, and the validator's sequential reject-rate test."""

from __future__ import annotations

import pytest

from remote.diagnostics import describe, diagnostics, plan, suites
from remote.diagnostics.bill_validator import RejectRateTest
from workbench.errors import ConfigError


def test_suites_and_names() -> None:
    assert list(diagnostics()) == suites()["inspection"]
    assert suites()["device:bill_validator"] == ["bill_validator", "cash_box"]
    assert suites()["device:printer"] == ["print_head"]
    assert [p.quick for p in plan(["quick"])] == [True] * 11
    assert [p.test.name for p in plan(["cash_box", "device:bill_validator"])] == [
        "cash_box",
        "bill_validator",
    ]
    with pytest.raises(ConfigError, match="no diagnostic or suite 'teapot'"):
        plan(["teapot"])
    listed = describe()
    assert sum(1 for x in listed if x["kind"] == "test") == 11
    assert all(x["checklist"] for x in listed if x["kind"] == "test")


def test_the_reject_rate_test_decides_as_designed() -> None:
    t = RejectRateTest()
    assert t.verdict(0, 0) is None
    assert t.verdict(24, 0) is False  # a clean path: two dozen notes, none rejected
    assert t.verdict(0, 3) is True  # three sensor rejects in three notes
    assert t.verdict(3, 4) is True  # four in seven
    assert t.verdict(20, 1) is None  # one reject in 21 is not enough either way
    assert t.verdict(38, 2) is False  # at the cap the sign decides


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:²"])
async def test_a_manifest_port_out_of_range_is_an_error_of_the_test(
    address: str,
) -> None:
    # a port past 65535 (or a non-ASCII digit) used to escape as OverflowError (ValueError)
    # and end `workbench diag run` with a traceback; it is the manifest's fault, not the device's
    result = await diagnostics()["host_pc"].run({"devices": {"host_pc": {"http": address}}})
    assert result.status == "error" and result.suspect is None and result.remedy is None
    assert "bad address" in result.detail
