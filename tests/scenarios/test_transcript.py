"""Record and replay: the example application's run is recorded, a second run of it matches the
golden transcript, and a one-byte change in its receipt shows as a divergence naming the byte,
decoded by the printer's codec; Modbus and HTTP requests are recorded decoded and compared the
same way. Strict mode finds an SSP host that does not toggle the flag."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

import pytest

from devices.protocols import ssp
from devices.protocols import ssp_messages as sm
from scenarios.testing import SimulatedKiosk
from scenarios.transcript import Chunk, compare_files, findings, messages, read
from workbench.cli import main
from workbench.errors import ConfigError, DeviceError

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


def poll_ups_and_host_pc(path: Path, first_register: int = 0) -> None:
    """A monitoring agent: the UPS's input registers over Modbus, the host PC's sensors over
    HTTP."""
    from pymodbus.client import ModbusTcpClient

    with SimulatedKiosk(speed=60, record=path) as kiosk:
        host, port = kiosk.endpoints["ups"]["modbus"].rsplit(":", 1)
        client = ModbusTcpClient(host, port=int(port), timeout=2, retries=0)
        assert client.connect()
        try:
            for _ in range(2):  # the transaction id counts up: not part of what is compared
                assert not client.read_input_registers(first_register, count=4).isError()
        finally:
            client.close()
        url = f"http://{kiosk.endpoints['host_pc']['http']}/sensors"
        with urllib.request.urlopen(url, timeout=5) as reply:
            assert reply.status == 200


def test_modbus_and_http_requests_are_recorded_decoded_and_replayed(tmp_path: Path) -> None:
    golden, again, changed = (tmp_path / f"{n}.jsonl" for n in ("golden", "again", "changed"))
    poll_ups_and_host_pc(golden)
    _, chunks = read(golden)
    sent = messages(chunks)
    assert [m.text for m in sent["ups/modbus"]] == [
        "Modbus unit 1: read input registers address=0 count=4"
    ] * 2
    assert [m.text for m in sent["host_pc/http"]] == ["HTTP GET /sensors HTTP/1.1"]
    replies = messages(chunks, "out")
    assert replies["ups/modbus"][0].text.startswith("Modbus unit 1: read input registers ")
    assert replies["host_pc/http"][0].key.startswith(b"HTTP/1.1 200 OK")
    poll_ups_and_host_pc(again)
    assert compare_files(golden, again) is None
    poll_ups_and_host_pc(changed, first_register=1)
    divergence = compare_files(golden, changed)
    assert divergence is not None
    head, expected, actual = divergence.describe().splitlines()
    assert head.startswith("ups/modbus: message 1 differs at simulated ")
    assert head.endswith(r"byte 3: expected 0x00 '\x00', got 0x01 '\x01'")  # the address
    assert expected == "  expected: Modbus unit 1: read input registers address=0 count=4"
    assert actual == "  actual:   Modbus unit 1: read input registers address=1 count=4"


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


def test_checking_a_transcript_a_kiosk_does_not_record_says_how_to_record_one(
    tmp_path: Path,
) -> None:
    # it said "start it with record=PATH", a form the pytest marker's users do not write
    with SimulatedKiosk(speed=60) as kiosk, pytest.raises(DeviceError) as info:
        kiosk.check_transcript(tmp_path / "golden.jsonl")
    assert str(info.value) == (
        "this kiosk records no transcript: mark the test @pytest.mark.kiosk(record=True) "
        "(or record='new.jsonl'; SimulatedKiosk(record=...) outside pytest)"
    )


def test_a_kiosk_killed_with_sigkill_leaves_what_it_recorded(tmp_path: Path) -> None:
    # the recorder wrote nothing before its close: a kiosk killed by a CI time-out or the OOM
    # killer left an empty transcript. Now a line is on disk within FLUSH_S (1 s) of its chunk
    import json
    import signal
    import subprocess
    import time

    path, state = tmp_path / "killed.jsonl", tmp_path / "state"
    up = ["kiosk", "up", "--speed", "60", "--state-dir", str(state), "--record", str(path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", *up],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        while "kiosk(s) up" not in (line := proc.stdout.readline()):
            assert line, proc.stderr.read() if proc.stderr else ""
        manifest = json.loads((state / "KSK-0001" / "endpoints.json").read_text())
        with open(manifest["devices"]["printer"]["serial"], "r+b", buffering=0) as printer:
            printer.write(b"\x10\x04\x01")  # DLE EOT 1: the printer's status
            status = printer.read(1)
        deadline = time.monotonic() + 10
        while '"device": "printer"' not in path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)  # the recorder's own flush, FLUSH_S after the chunk
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    header, chunks = read(path)
    assert header["terminal"] == "KSK-0001"
    assert [(c.device, c.direction, c.data) for c in chunks[:2]] == [
        ("printer", "in", b"\x10\x04\x01"),
        ("printer", "out", status),
    ]


def test_half_a_last_line_is_left_out_and_a_bad_line_inside_is_named(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl"
    with SimulatedKiosk(speed=60, record=whole) as kiosk:
        kiosk.inject("printer.paper_out")
    lines = whole.read_text().splitlines(keepends=True)
    line = (
        '{"t": 1.0, "wall": 0.1, "device": "printer", "session": 1, "dir": "in", "hex": "1b40"}\n'
    )
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines) + line + line[:30])  # killed while it wrote the last line
    assert read(cut)[1][-1].data == b"\x1b\x40"
    inside = tmp_path / "inside.jsonl"
    inside.write_text("".join(lines) + line[:30] + "\n" + line)
    with pytest.raises(ConfigError, match=rf"^{inside}:{len(lines) + 1}: not a transcript line"):
        read(inside)
