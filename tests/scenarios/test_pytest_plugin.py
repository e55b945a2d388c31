"""The pytest plugin as a kiosk-software team meets it: loaded by its entry point, a ``kiosk``
fixture per test with the marker's profile, strict mode failing a test with the finding, and
a teardown that leaves no warning, file descriptor or thread behind, even when the test forgot
to close its printer."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from typing import BinaryIO

import pytest

from devices.protocols.hosts import Exchange
from devices.protocols.hosts.ssp import SspAnswer, SspMaster
from devices.protocols.ssp_messages import Command, Response
from scenarios.testing import SimulatedKiosk
from workbench.errors import DeviceError

pytest_plugins = ["pytester"]

TESTS = """
import pytest
from escpos.printer import Serial


@pytest.mark.kiosk(profile="query_print")
def test_profile_from_the_marker(kiosk):
    assert "bill_validator" not in kiosk.endpoints
    assert kiosk.endpoints["printer"]["serial"].startswith("/dev/pts/")
    assert kiosk.manifest["profile"] == "query_print"


def test_faults_and_stimuli(kiosk):
    kiosk.inject("printer.cover_open")
    assert kiosk.faults() == ["printer.cover_open"]
    kiosk.clear("printer.cover_open")
    assert kiosk.faults() == []
    assert kiosk.act("insert-note", 20) == "20 EUR not taken: validator disabled"


def test_an_unclosed_printer_leaves_no_noise(kiosk):
    printer = Serial(devfile=kiosk.endpoints["printer"]["serial"], baudrate=115200, timeout=0.3)
    printer.text("left open\\n")
    assert printer.is_online()


def test_advance_moves_simulated_time(kiosk):
    before = kiosk.sim_time
    kiosk.advance(3600)
    assert kiosk.sim_time >= before + 3600


@pytest.mark.kiosk(strict=True)
def test_strict_mode_fails_on_an_unknown_command(kiosk):
    with open(kiosk.endpoints["printer"]["serial"], "wb", buffering=0) as port:
        port.write(b"\\x1d\\x28\\x6b\\x03\\x00\\x30\\x41\\x00")  # GS ( k with cn 0x30
    kiosk.wait_for("printer", "unsupported_command")
"""


def test_the_plugin_runs_kiosk_software_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning"
    )
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the kiosk software misbehaved on the wire (strict mode):*",
            "*printer at * s: unsupported_command hex=1d 28 6b 30 41 bytes=8*",
        ]
    )
    assert "termios" not in result.stdout.str() + result.stderr.str()
    assert "Exception ignored" not in result.stderr.str()


def test_the_plugin_option_sets_the_profile(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_opt="def test_ticket(kiosk):\n    assert kiosk.manifest['profile'] == 'ticket'\n"
    )
    result = pytester.runpytest_subprocess("--kiosk-profile", "ticket", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_plugin_option_sets_the_speed_and_refuses_a_bad_one(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_speed="def test_speed(kiosk):\n    assert kiosk.speed == 30\n")
    result = pytester.runpytest_subprocess("--kiosk-speed", "30", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    for bad in ("0", "-1", "nan", "1e6"):  # --kiosk-speed 0 ran every test at 60x
        result = pytester.runpytest_subprocess("--kiosk-speed", bad, "-p", "no:cacheprovider")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        shown = f"{float(bad):g}"
        said = [line for line in result.stderr.lines if line]
        assert said == [f"ERROR: --kiosk-speed(={shown}) must be > 0 and at most 100000"]


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_closed_kiosk_leaves_no_descriptor_or_thread() -> None:
    fds, threads = _fds(), threading.active_count()
    with SimulatedKiosk(speed=60) as kiosk:
        assert kiosk.manifest_path.exists()
        manifest = kiosk.manifest_path
        assert len(_fds()) > len(fds) + 10  # ptys, sockets, the store
    assert not manifest.exists()
    assert _fds() <= fds | {
        f for f in _fds() if f not in fds and not os.path.exists(f"/proc/self/fd/{f}")
    }
    assert len(_fds() - fds) == 0
    assert threading.active_count() == threads


def test_the_readme_example_passes_as_it_stands(pytester: pytest.Pytester) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Testing kiosk software in CI") :]
    start = section.index("```python\n") + len("```python\n")
    pytester.makepyfile(test_readme=section[start : section.index("```", start)])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_strict_findings_name_a_host_too_slow_for_the_escrow() -> None:
    with SimulatedKiosk(speed=60, strict=True) as kiosk:
        from devices.protocols import ssp
        from devices.protocols import ssp_messages as sm

        with open(kiosk.endpoints["bill_validator"]["serial"], "r+b", buffering=0) as port:
            replies = ssp.Deframer()
            for seq, code, params in (
                (True, sm.Command.SYNC, b""),
                (False, sm.Command.SET_INHIBITS, b"\xff\xff"),
                (True, sm.Command.ENABLE, b""),
            ):
                port.write(ssp.encode_frame(seq, 0, sm.command(code, params)))
                while not replies.feed(port.read(1)):  # the whole reply: the unit is enabled
                    pass
            inserted = kiosk.sim_time
            assert "taken in" in kiosk.act("insert-note", 20)  # ...and the host never polls again
            # The escrow time-out is 5 s of the host's (wall) clock at any speed: 300 simulated
            # seconds at 60x once the note is read (1 simulated second). Wait by the kiosk's own
            # clock, not the wall's: a loaded machine runs the kiosk late, its clock with it.
            due = inserted + 1.0 + 60 * 5.0

            def rejections() -> list[float]:
                return [t for t, e in kiosk.events("bill_validator") if e.startswith("rejecting")]

            while not rejections():
                assert kiosk.sim_time < due + 60, "no rejection a host second past the escrow"
                with contextlib.suppress(DeviceError):
                    kiosk.wait_for("bill_validator", "rejecting", timeout_s=0.5)
        assert rejections()[0] >= due  # not before the host's time was up
        assert any("did not poll within the escrow time" in f for f in kiosk.findings())


def _ask(port: BinaryIO, ask: Exchange[SspAnswer], timeout_s: float = 2.0) -> SspAnswer | None:
    """Send one SSP request on a pty and read its answer (None: silence for ``timeout_s``)."""
    port.write(ask.request)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if select.select([port], [], [], 0.1)[0]:
            answer = ask.feed(os.read(port.fileno(), 256))
            if answer is not None:
                return answer
    return None


def test_strict_findings_name_an_encrypted_command_with_a_wrong_count() -> None:
    with SimulatedKiosk(speed=60, strict=True) as kiosk:
        host = SspMaster()
        with open(kiosk.endpoints["bill_validator"]["serial"], "r+b", buffering=0) as port:
            assert _ask(port, host.command(Command.SYNC)) == (Response.OK, b"")
            answers = [_ask(port, ask) for _, ask in host.negotiation()]
            assert [a[0] if a else None for a in answers] == [Response.OK] * 3
            host.finish_negotiation(answers[-1][1])  # type: ignore[index]
            assert _ask(port, host.command(Command.POLL)) is not None  # eCOUNT 0: answered
            assert host.crypto is not None
            host.crypto.count = 5  # the host skips counts 1-4
            assert _ask(port, host.command(Command.POLL), timeout_s=1.0) is None  # discarded
        (finding,) = kiosk.findings()
        assert finding.startswith("bill_validator at ")
        assert finding.endswith(
            "protocol_violation what=encrypted_command_with_wrong_count ecount=5 expected=1"
        )


def test_strict_findings_name_a_modbus_read_outside_the_map() -> None:
    from pymodbus.client import ModbusTcpClient

    from devices.protocols import ups_registers as regs

    with SimulatedKiosk(speed=60, strict=True) as kiosk:
        host, port = kiosk.endpoints["ups"]["modbus"].rsplit(":", 1)
        client = ModbusTcpClient(host, port=int(port), timeout=2, retries=0)
        assert client.connect()
        try:
            assert not client.read_input_registers(0, count=regs.INPUT_COUNT).isError()
            assert kiosk.findings() == []
            rr = client.read_input_registers(regs.INPUT_COUNT - 1, count=2)
        finally:
            client.close()
        assert rr.isError() and rr.exception_code == 0x02
        (finding,) = kiosk.findings()
        assert finding.startswith("ups at ")
        assert finding.endswith(
            "protocol_violation what=modbus_read_outside_the_map "
            f"function=4 address={regs.INPUT_COUNT - 1} count=2"
        )


def test_strict_findings_name_modbus_writes_outside_the_map_and_to_read_only_registers() -> None:
    from pymodbus.client import ModbusTcpClient

    from devices.protocols import ups_registers as regs

    with SimulatedKiosk(speed=60, strict=True) as kiosk:
        host, port = kiosk.endpoints["ups"]["modbus"].rsplit(":", 1)
        client = ModbusTcpClient(host, port=int(port), timeout=2, retries=0)
        assert client.connect()
        try:
            threshold = regs.HoldingRegister.LOW_BATTERY_THRESHOLD
            assert not client.write_register(threshold, 25).isError()
            assert kiosk.findings() == []
            past_the_end = client.write_registers(regs.HOLDING_COUNT - 1, [0, 0])
            read_only = client.write_register(regs.HoldingRegister.BATTERY_TEST_RESULT, 0)
        finally:
            client.close()
        assert [rr.exception_code for rr in (past_the_end, read_only)] == [0x02, 0x02]
        outside, read_only_finding = kiosk.findings()
        assert outside.startswith("ups at ") and outside.endswith(
            "protocol_violation what=modbus_write_outside_the_map "
            f"function=16 address={regs.HOLDING_COUNT - 1} count=2"
        )
        assert read_only_finding.endswith(
            "protocol_violation what=modbus_write_to_a_read_only_register "
            f"function=6 address={int(regs.HoldingRegister.BATTERY_TEST_RESULT)} count=1"
        )


BAD_SETUPS = """
import pytest


@pytest.mark.kiosk(profile="bill_payment", sped=60)
def test_typo_in_the_marker(kiosk):
    pass


@pytest.mark.kiosk(profile="bill_paymnet")
def test_unknown_profile(kiosk):
    pass


@pytest.mark.kiosk_scenario("p3-paper-ot")
def test_unknown_scenario(kiosk):
    pass
"""


def test_a_bad_marker_profile_or_scenario_fails_setup_in_one_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_bad=BAD_SETUPS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.kiosk: unknown keyword 'sped' (did you mean 'speed'?); valid: profile, "
            "speed, seed, terminal_id, strict, record",
            "*kiosk fixture: unknown profile 'bill_paymnet'; available: bill_payment, *",
            "*kiosk fixture: unknown scenario 'p3-paper-ot'*",
        ]
    )
    assert "Traceback" not in out and "TypeError" not in out and "raise " not in out


def test_waiting_on_a_device_the_kiosk_lacks_is_refused_at_once() -> None:
    with SimulatedKiosk(profile="query_print", speed=60) as kiosk:
        started = time.monotonic()
        with pytest.raises(
            DeviceError, match=r"^terminal KSK-TEST has no device 'printr'; it has "
        ):
            kiosk.wait_for("printr", "receipt", timeout_s=5.0)
        assert time.monotonic() - started < 4.0  # not after the 5 s wait
        with pytest.raises(DeviceError, match="no device 'bill_validator'"):
            kiosk.events("bill_validator")
