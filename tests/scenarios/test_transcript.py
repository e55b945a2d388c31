"""Record and replay: the example application's run is recorded, a second run of it matches the
golden transcript, and a one-byte change in its receipt shows as a divergence naming the byte,
decoded by the printer's codec. Strict mode finds an SSP host that does not toggle the flag."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devices.protocols import ssp
from devices.protocols import ssp_messages as sm
from scenarios.testing import SimulatedKiosk
from scenarios.transcript import Chunk, compare_files, findings, read
from workbench.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "billpay"))
import billpay


def pay_once(path: Path, account: str = "0012-3456-78") -> None:
    with SimulatedKiosk(speed=60, record=path) as kiosk:
        app = billpay.BillPayKiosk(
            kiosk.endpoints["bill_validator"]["serial"], kiosk.endpoints["printer"]["serial"]
        )
        payment = app.pay(account, 20, on_ready=lambda: kiosk.act("insert-note", 20))
        assert payment.status == "paid"
        kiosk.wait_for("printer", "receipt")


def test_a_run_matches_its_golden_transcript_and_one_byte_diverges(tmp_path: Path) -> None:
    golden, again, changed = (
        tmp_path / "golden.jsonl",
        tmp_path / "again.jsonl",
        tmp_path / "changed.jsonl",
    )
    pay_once(golden)
    header, chunks = read(golden)
    assert header["transcript"] == "kiosk-workbench" and header["terminal"] == "KSK-TEST"
    assert {c.device for c in chunks} >= {"printer", "bill_validator"}
    assert {c.direction for c in chunks} == {"in", "out"}
    pay_once(again)
    assert compare_files(golden, again) is None  # polls and timing differ; what was said does not
    pay_once(changed, account="0012-3456-79")
    divergence = compare_files(golden, changed)
    assert divergence is not None
    text = divergence.describe()
    assert text.startswith("printer: message ")
    assert "byte 22: expected 0x38 '8', got 0x39 '9'" in text
    assert "expected: Text(data=b'Account    0012-3456-78\\n')" in text
    assert "actual:   Text(data=b'Account    0012-3456-79\\n')" in text
    with pytest.raises(SystemExit) as exit_info:
        main(["scenario", "replay", str(golden), str(changed)])
    assert exit_info.value.code == 1


def _frame(seq: bool, code: int) -> bytes:
    return ssp.encode_frame(seq, 0, sm.command(code))


def test_strict_findings_from_a_transcript() -> None:
    def chunk(device: str, data: bytes) -> Chunk:
        return Chunk(1.0, 0.1, device, 1, "in", data)

    good = [
        chunk("bill_validator", _frame(True, sm.Command.SYNC)),
        chunk("bill_validator", _frame(False, sm.Command.POLL)),
        chunk("bill_validator", _frame(True, sm.Command.POLL)),
    ]
    assert findings(good) == []
    stuck = [*good, chunk("bill_validator", _frame(True, sm.Command.ENABLE))]
    assert findings(stuck) == [
        "bill_validator at 1.000 s: SSP sequence flag not toggled (0x0A sent with the flag of the previous, different command)"
    ]
    bad_bcc = b"\x02\x00\x02C0\x03\x00"
    assert findings([chunk("card_reader", bad_bcc)]) == [
        "card_reader at 1.000 s: frame with a bad BCC"
    ]
