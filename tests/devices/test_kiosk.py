"""A running simulated kiosk: endpoints manifest, control plane, faults and stimuli, records."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import stat
import sys
from pathlib import Path

import pytest

from devices.control import request_async
from devices.kiosk import KioskHost, terminal_ids
from devices.profiles import load_profile
from workbench.errors import ConfigError, DeviceError

VALIDATOR_ONLY = "name: cash_only\ndevices:\n  bill_validator:\n    transports: [serial]\n"


@pytest.fixture
def profile(state_dir: Path) -> Path:
    path = state_dir / "cash_only.yaml"
    path.write_text(VALIDATOR_ONLY)
    return path


@pytest.mark.timeout(20)
async def test_manifest_control_socket_faults_and_records(state_dir: Path, profile: Path) -> None:
    async with KioskHost(state_dir, profile, ["KSK-0007"], speed=50) as host:
        manifest = json.loads((state_dir / "KSK-0007" / "endpoints.json").read_text())
        assert manifest["terminal"] == "KSK-0007"
        assert manifest["profile"] == "cash_only"
        assert manifest["devices"]["bill_validator"]["serial"].startswith("/dev/pts/")
        sock = Path(manifest["control"])
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700

        faults = await request_async(sock, "fault.list")
        assert {f["id"] for f in faults} >= {"bill_validator.safe_jam", "cash_box.removed"}
        assert not any(f["active"] for f in faults)
        result = await request_async(sock, "fault.inject", id="cash_box.removed")
        assert result["active"] == ["cash_box.removed"]
        with pytest.raises(
            DeviceError, match=r"has no printer, so cannot show 'printer.paper_out'"
        ):
            await request_async(sock, "fault.inject", id="printer.paper_out")
        with pytest.raises(DeviceError, match=r"unknown fault 'bill_validator.on_fire'"):
            await request_async(sock, "fault.inject", id="bill_validator.on_fire")
        result = await request_async(sock, "fault.clear", id="cash_box.removed")
        assert result["active"] == []
        with pytest.raises(DeviceError, match=r"no device of terminal KSK-0007 has action 'dance'"):
            await request_async(sock, "act", action="dance")
        assert host.clock.max_lag < 0.5
    # a clean shutdown removes the manifest and the socket; the records stay
    assert not (state_dir / "KSK-0007" / "endpoints.json").exists()
    assert not sock.exists()
    from workbench.store import RecordStore

    with RecordStore(state_dir / "records.sqlite") as store:
        kinds = [(e.kind, e.detail) for e in store.device_events("KSK-0007")]
        assert ("fault", {"id": "cash_box.removed"}) in kinds
        assert ("clear", {"id": "cash_box.removed"}) in kinds
        terminal = store.terminal("KSK-0007")
        assert terminal is not None and terminal.profile == "cash_only"


@pytest.mark.timeout(20)
async def test_many_terminals_in_one_process(state_dir: Path, profile: Path) -> None:
    ids = terminal_ids("KSK", 12)
    assert ids[0] == "KSK-0001" and ids[-1] == "KSK-0012"
    async with KioskHost(state_dir, profile, ids, speed=10) as host:
        paths = {host.endpoints[t]["devices"]["bill_validator"]["serial"] for t in ids}
        assert len(paths) == 12
        await request_async(
            host.endpoints["KSK-0003"]["control"], "fault.inject", id="bill_validator.safe_jam"
        )
        assert host.terminals["KSK-0003"].active_faults() == ["bill_validator.safe_jam"]
        assert host.terminals["KSK-0004"].active_faults() == []


def test_profile_with_unknown_key_names_file_and_key(state_dir: Path) -> None:
    bad = state_dir / "bad.yaml"
    bad.write_text("name: x\ndevices:\n  bill_validator:\n    cash_box_capacityy: 10\n")
    with pytest.raises(ConfigError) as info:
        load_profile(bad)
    assert str(info.value).startswith(
        f"{bad}:4: unknown key 'cash_box_capacityy' in devices.bill_validator; valid keys:"
    )
    bad.write_text("name: x\ndevices:\n  coffee_machine: {}\n")
    with pytest.raises(
        ConfigError,
        match=r"bad.yaml:3: unknown key 'coffee_machine' in devices; valid keys: .*bill_validator",
    ):
        load_profile(bad)


def test_scheduled_fault_of_a_missing_device_is_refused(state_dir: Path) -> None:
    path = state_dir / "sched.yaml"
    path.write_text(
        VALIDATOR_ONLY + "faults:\n  schedule:\n    - {at: 10m, inject: printer.cover_open}\n"
    )
    with pytest.raises(
        ConfigError,
        match=rf"sched.yaml:{VALIDATOR_ONLY.count(chr(10)) + 3}: faults.schedule.0: scheduled fault "
        r"'printer.cover_open' is not a fault",
    ):
        KioskHost(state_dir, path, ["K"])


@pytest.mark.timeout(30)
async def test_cli_kiosk_up_runs_until_sigterm_and_errors_are_one_line(
    state_dir: Path, profile: Path
) -> None:
    cmd = [sys.executable, "-m", "workbench.cli", "kiosk", "up", "--profile", str(profile)]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        "--id",
        "KSK-0100",
        "--state-dir",
        str(state_dir),
        "--speed",
        "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:  # a failed check must not leave the kiosk running
        assert proc.stdout is not None
        while b"kiosk(s) up" not in (line := await proc.stdout.readline()):
            assert line, (await proc.stderr.read()).decode() if proc.stderr else "kiosk exited"
        sock = state_dir / "KSK-0100" / "control.sock"
        code, stdout, _ = await _kiosk_fault(state_dir, "inject", "bill_validator.no_response")
        assert code == 0
        assert b"active now: bill_validator.no_response" in stdout
        # one not active: said so, not "cleared"
        assert await _kiosk_fault(state_dir, "clear", "bill_validator.safe_jam") == (
            0,
            b"KSK-0100: bill_validator.safe_jam was not active; active now: "
            b"bill_validator.no_response\n",
            b"",
        )
        assert sock.exists()
        proc.send_signal(signal.SIGTERM)
        rest, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert b"stopped cleanly" in rest
    assert not sock.exists()

    code, _, err = await _kiosk_fault(state_dir, "inject", "nope.nope")
    assert code == 4
    assert err.decode().count("\n") == 1
    assert (
        "kiosk control socket not reachable" in err.decode() and "is the kiosk up?" in err.decode()
    )


async def _kiosk_fault(state_dir: Path, *args: str) -> tuple[int | None, bytes, bytes]:
    """``workbench kiosk fault ARGS`` on KSK-0100: its exit status, stdout and stderr."""
    cli = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "workbench.cli", "kiosk", "fault", *args),
        *("--id", "KSK-0100", "--state-dir", str(state_dir)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    stdout, stderr = await cli.communicate()
    return cli.returncode, stdout, stderr


def test_a_live_device_keeps_recent_events_only() -> None:
    import simpy

    from devices.catalog import default_catalog
    from devices.printer import Printer, PrinterSettings

    env = simpy.Environment()
    printer = Printer(env, PrinterSettings(), default_catalog().for_device("printer"))
    printer.log_limit = 10
    for _ in range(25):
        printer.act("open-cover")
        printer.act("close-cover")
    assert 10 <= len(printer.log) <= 20
    assert printer.log[-1][1] == "clear id=printer.cover_open"


@pytest.mark.timeout(20)
async def test_a_second_kiosk_with_the_same_id_is_refused(state_dir: Path, profile: Path) -> None:
    async with KioskHost(state_dir, profile, ["KSK-0009"], speed=10):
        with pytest.raises(DeviceError, match=r"terminal KSK-0009 is already running"):
            async with KioskHost(state_dir, profile, ["KSK-0009"], speed=10):
                pass
        # the running kiosk is untouched
        assert (state_dir / "KSK-0009" / "endpoints.json").exists()
        assert await request_async(state_dir / "KSK-0009" / "control.sock", "fault.list")


@pytest.mark.timeout(20)
async def test_malformed_control_requests_get_an_error_reply(
    state_dir: Path, profile: Path
) -> None:
    # attributes that are not a mapping, and a line past the stream's limit, used to end the
    # connection with no reply and a traceback in the kiosk's log
    async with KioskHost(state_dir, profile, ["KSK-0008"], speed=50):
        sock = state_dir / "KSK-0008" / "control.sock"
        with pytest.raises(DeviceError, match=r"bad request for 'wire.add'"):
            await request_async(
                sock, "wire.add", device="bill_validator", type="latency", attributes=5
            )
        with pytest.raises(DeviceError, match=r"bad request: line too long"):
            await request_async(sock, "status", pad="x" * 100_000)
        assert (await request_async(sock, "status"))["terminal"] == "KSK-0008"
        # a deeply nested line raised RecursionError in the kiosk: no reply, a traceback logged
        reader, writer = await asyncio.open_unix_connection(str(sock))
        writer.write(b'{"op": "status", "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}\n")
        writer.write(b'{"op": ' + b"[" * 20_000 + b"]" * 20_000 + b"}\n")
        assert json.loads(await reader.readline()) == {
            "ok": False,
            "error": "bad request: nested too deeply",
        }
        assert json.loads(await reader.readline())["error"] == "bad request: nested too deeply"
        writer.write(b'{"op": "status"}\n')
        assert json.loads(await reader.readline())["result"]["terminal"] == "KSK-0008"
        writer.close()


@pytest.mark.parametrize("prefix", ["../evil", "", "a b", "-x", "K" * 64, "KSK-0001\n"])
def test_terminal_ids_that_are_not_directory_names_and_principals_are_refused(
    prefix: str,
) -> None:
    # `kiosk up --id ../evil` used to write its manifest and socket outside the state dir, and
    # an id with a space ran a kiosk no grant could ever reach
    count = 2 if prefix == "K" * 64 else 1  # 64 characters plus "-0001" is one too many
    with pytest.raises(ConfigError, match=r"terminal id\(=.*\) must be 1-64 letters"):
        terminal_ids(prefix, count)
    assert terminal_ids("KSK.a_b-1", 1) == ["KSK.a_b-1"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("peer_uid", [None, os.getuid() + 1])
async def test_the_control_socket_refuses_an_unknown_or_foreign_peer(
    state_dir: Path, profile: Path, monkeypatch: pytest.MonkeyPatch, peer_uid: int | None
) -> None:
    # an unreadable peer credential used to be accepted
    import devices.control
    from workbench.errors import TransportError

    async with KioskHost(state_dir, profile, ["KSK-0010"], speed=50):
        sock = state_dir / "KSK-0010" / "control.sock"
        assert (await request_async(sock, "status"))["terminal"] == "KSK-0010"
        monkeypatch.setattr(devices.control, "_peer_uid", lambda sock: peer_uid)
        with pytest.raises(TransportError, match="the kiosk closed the control connection"):
            await request_async(sock, "status")


async def _stop_time(state_dir: Path, tid: str, speed: str) -> float:
    """Start ``kiosk up`` (the full bill_payment profile), await it, SIGTERM it: seconds to exit."""
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "workbench.cli", "kiosk", "up", "--id", tid, "--speed", speed],
        "--state-dir",
        str(state_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    while b"kiosk(s) up" not in (line := await proc.stdout.readline()):
        assert line, (await proc.stderr.read()).decode()
    await asyncio.sleep(0.5)  # let live time run (at the maximum speed it is always behind)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    proc.send_signal(signal.SIGTERM)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return loop.time() - sent


@pytest.mark.timeout(40)
async def test_a_kiosk_at_the_maximum_speed_stops_on_sigterm(state_dir: Path) -> None:
    baseline = await _stop_time(state_dir, "KSK-0301", "1")
    fastest = await _stop_time(state_dir, "KSK-0302", "100000")
    assert fastest < max(2.0, 3 * baseline), (fastest, baseline)


def test_kiosk_up_refuses_a_speed_past_the_maximum(state_dir: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "kiosk", "up", "--speed", "1e308"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=state_dir,
    )
    assert done.returncode == 2
    assert done.stderr == "workbench: error: speed(=1e+308) must be > 0 and at most 100000\n"


def _collected(obj: object) -> bool:
    """Whether the garbage collector walks ``obj`` (frozen objects are out of its reach)."""
    return any(o is obj for o in gc.get_objects())


@pytest.mark.timeout(20)
async def test_a_long_running_host_freezes_its_start_up_out_of_the_collector(
    state_dir: Path, profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kiosk up`` (``freeze_gc=True``): once started, the terminals and their devices are out
    of the garbage collector's reach, so a full collection no longer walks them; the kiosk works
    as before, and closing gives them back."""
    assert gc.get_freeze_count() == 0
    async with KioskHost(state_dir, profile, ["KSK-0008"], speed=50, freeze_gc=True) as host:
        terminal = host.terminals["KSK-0008"]
        assert gc.get_freeze_count() > 1000
        assert not _collected(terminal) and not _collected(terminal.devices)
        sock = Path(host.endpoints["KSK-0008"]["control"])
        result = await request_async(sock, "fault.inject", id="cash_box.removed")
        assert result["active"] == ["cash_box.removed"]
    assert gc.get_freeze_count() == 0
    assert _collected(terminal)

    monkeypatch.setenv("WORKBENCH_GC_FREEZE", "0")  # the benches' comparison
    async with KioskHost(state_dir, profile, ["KSK-0009"], speed=50, freeze_gc=True) as host:
        assert gc.get_freeze_count() == 0
    async with KioskHost(state_dir, profile, ["KSK-0010"], speed=50) as host:
        assert gc.get_freeze_count() == 0  # a host for tests does not freeze
