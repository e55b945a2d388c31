"""The engineer's command line against a real simulated kiosk and its agent: a suite name the
terminal does not know is a usage error that records nothing, `remote remedy` is kept as a
maintenance action with its re-test and exits non-zero when the fault stays, `remote history`
lists what was done, `remote fleet` names failing tests, and `remote run` shows the window."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path

import pytest

from devices.kiosk import KioskHost
from remote.cli import main
from remote.window import CertificateAuthority, engineer_key
from scenarios.wiring import kiosk_backend, kiosk_extra
from workbench import console
from workbench.store import RecordStore

TID = "KSK-0007"


def _command_line(args: tuple[str, ...]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["remote", *args])
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int), code
    return code, out.getvalue(), err.getvalue()


async def _remote(*args: str) -> tuple[int, str, str]:
    """``python -m remote.cli remote ARGS``, through its entry point (``main``) in this process,
    on a thread of its own (the kiosk and its agent serve on this loop): the exit code, standard
    output and standard error. Nine fresh interpreters spent 0.45 CPU-seconds each importing
    (asyncssh, cryptography, pydantic, pymodbus, rich), 4 of the test's 5 CPU-seconds: 53 s of
    wall time on a loaded machine. ``tests/remote/test_client_fleet.py`` and others still run
    ``python -m remote.cli`` itself."""
    return await asyncio.to_thread(_command_line, args)


@pytest.mark.timeout(60)
async def test_run_remedy_history_and_fleet_on_a_simulated_kiosk(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # as the engineer's terminal is wide
    # the consoles read it at each print, as a fresh process's read it at its start: these were
    # made when this process imported them (under xdist with COLUMNS=80, and then kept 80)
    monkeypatch.setattr(console.out, "_width", None)
    monkeypatch.setattr(console.err, "_width", None)
    ca_dir = state_dir / "ca"
    ca = CertificateAuthority.init(ca_dir)
    key = engineer_key(state_dir / "alice", "alice@support")
    cert = state_dir / "alice-cert.pub"
    cert.write_bytes(ca.grant([TID], key, hours=1, allow=("diag", "remedy")).certificate)
    ident = ["--key", str(state_dir / "alice"), "--cert", str(cert)]
    ident += ["--known-hosts", str(ca_dir / "known_hosts")]
    manifest = str(state_dir / TID / "endpoints.json")
    records = state_dir / "records.sqlite"
    extra = kiosk_extra(ca_dir, kiosk_backend)
    async with KioskHost(state_dir, "bill_payment", [TID], speed=60, extras=[extra]) as host:
        with RecordStore(records) as store:
            before = len(store.maintenance_runs(TID))

        code, out, err = await _remote(
            "run", "--endpoints", manifest, *ident, "remedy printer.reset"
        )
        assert code == 2 and "not a suite" in err and "remote remedy" in err
        code, out, err = await _remote("run", "--endpoints", manifest, *ident, "nonsense")
        assert code == 2, (out, err)
        assert f"{TID} has no suite or test 'nonsense'" in err and err.count("nonsense") == 1
        with RecordStore(records) as store:
            assert len(store.maintenance_runs(TID)) == before  # nothing recorded

        host.terminals[TID].inject("display.brightness_low")
        code, out, err = await _remote("run", "--endpoints", manifest, *ident, "device:display")
        assert code == 0 and "warn display" in out and "display.brightness_low" in out  # a warning
        assert re.search(
            r"window: valid until \d\d:\d\d \[\d+m left\]; it counts from signing", out
        )

        host.terminals[TID].inject("printer.paper_out")
        code, out, err = await _remote(
            "remedy", "--state-dir", str(state_dir), *ident, TID, "printer.reset"
        )
        assert code == 1, (out, err)  # paper out needs a site visit: the reset does not clear it
        assert "not cleared" in out and "printer.paper_out" in out
        code, out, err = await _remote(
            "remedy", "--state-dir", str(state_dir), *ident, TID, "display.set_brightness"
        )
        assert code == 0, (out, err)
        assert "cleared" in out and "pass display" in out
        code, out, err = await _remote("remedy", "--state-dir", str(state_dir), *ident, TID, "zap")
        assert code == 2 and "no remedy 'zap'" in err

        code, out, err = await _remote(
            "fleet", "--state-dir", str(state_dir), *ident, "--suite", "device:printer"
        )
        assert code == 1 and "print_head fail: printer.paper_out" in out
        assert re.match(r"device:printer: 1 terminals in \d+\.\d s\n", out), out  # no emoji
        other = state_dir / "other-cert.pub"  # a certificate for another terminal
        other.write_bytes(ca.grant(["KSK-0008"], key, hours=1, allow=("diag",)).certificate)
        code, out, err = await _remote(
            "fleet", "--state-dir", str(state_dir), *ident[:2], "--cert", str(other),
            *ident[4:], "--suite", "device:printer",
        )  # fmt: skip
        assert code == 1 and "(other terminal: the certificate is for KSK-0008)" in out  # whole

    code, out, err = await _remote("history", "--state-dir", str(state_dir), TID)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    suites = [re.split(r"\s*│\s*", row)[3] for row in rows]
    assert suites == [
        "device:printer",
        "device:printer",
        "remedy display.set_brightness",
        "remedy printer.reset",
        "device:display",
    ]
    assert "error" in rows[0]  # the refused run says why it could not run
    assert "(other terminal: the certificate is for KSK-0008)" in rows[0]
    assert "cleared" in rows[2] and "not cleared" in rows[3] and "printer.paper_out" in rows[3]
