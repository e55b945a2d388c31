"""A class in one command: one simulated kiosk per trainee, all playing the same scenario in live
time with their SSH agents, a key and a window certificate per trainee (for their own kiosk,
``diag`` and ``remedy`` only: no answer key), and a one-page handout each.

Each ``class up`` is a new class with a new id, and every trainee certificate names it (the
``workbench-class@kiosk-workbench`` extension); the class's agents admit only certificates naming
their class. Kiosk ids (KSK-T01) and trainee keys repeat from class to class, so without it a
certificate kept from an earlier class, still inside its window, opened the next class's kiosk.

    STATE/class.json                       the class: scenario, trainees, their kiosks, the
                                           id of the process that runs them (to stop it)
    STATE/trainees/t01/{key,key.pub,key-cert.pub,handout.md}
    STATE/KSK-T01/{endpoints.json,scenario.json,agent/audit.jsonl}
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.library import Loaded
from scenarios.live import LiveScenario, ensure_ca
from workbench.errors import ConfigError, DeviceError
from workbench.process_stop import GRACE_S, ProcessHandle, Stopped


@dataclass(frozen=True, slots=True)
class Trainee:
    """One trainee's seat: their kiosk and their identity files."""

    name: str
    terminal: str
    key: Path
    cert: Path
    handout: Path


def class_path(state_dir: Path) -> Path:
    return state_dir / "class.json"


def read_class(state_dir: Path) -> dict[str, Any]:
    """The class record (a one-line error when no class was started here)."""
    path = class_path(state_dir)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no class here (start one with 'workbench class up')") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a class record: {exc}") from None
    return data


def class_pid(record: dict[str, Any], state_dir: Path) -> int | None:
    """The id of the process running the class, while it runs: the pid the class wrote in its
    record, if that process still serves its first trainee's kiosk (so a class that has ended, or
    a pid the system has since given to another process, is never signalled)."""
    from devices.transports.control_client import server_pid

    pid, trainees = record.get("pid"), record.get("trainees") or []
    if not isinstance(pid, int) or not trainees:
        return None
    serving = server_pid(state_dir / str(trainees[0]["terminal"]) / "control.sock")
    return pid if serving == pid else None


@dataclass(frozen=True, slots=True)
class ClassStopped:
    """What ``class stop`` did: the class's record, how its process ended, what it cleaned up."""

    record: dict[str, Any]
    stopped: Stopped
    removed: tuple[Path, ...] = ()
    """Files a killed class left behind (each kiosk's control socket and endpoints manifest)."""

    def summary(self) -> str:
        """One line: what it took to stop the class."""
        kiosks = len(self.record["trainees"])
        what = f"process {self.stopped.pid}, {kiosks} kiosk{'s' if kiosks != 1 else ''}"
        if not self.stopped.killed:
            return f"class on {self.record['scenario']} stopped ({what})"
        left = len(self.removed)
        return (
            f"class on {self.record['scenario']} did not stop in {self.stopped.grace_s:g} s: "
            f"killed ({what}; removed {left} file{'s' if left != 1 else ''} it left)"
        )


def stop_class(state_dir: Path, grace_s: float = GRACE_S) -> ClassStopped:
    """Stop the class running under ``state_dir``, whichever shell or TUI started it: SIGTERM to
    its process, which closes every kiosk and agent; if it has not exited after ``grace_s``,
    SIGKILL, and the kiosks' control sockets and manifests it left are removed (what a clean
    exit removes). Returns once the process is gone. Its record, the audit logs and the run
    records stay, for ``class status`` and scoring."""
    record = read_class(state_dir)
    not_running = ConfigError(
        f"the class on {record.get('scenario')} under {state_dir} is not running "
        "(its scores: 'workbench class status')"
    )
    pid = record.get("pid")
    proc = ProcessHandle.open(pid) if isinstance(pid, int) and pid > 0 else None
    if proc is None:
        raise not_running
    with proc:  # held before the check: a pid reused after it is never signalled
        if class_pid(record, state_dir) != proc.pid:
            raise not_running
        stopped = proc.stop(grace_s)
    removed = _leftovers(record, state_dir) if stopped.killed else ()
    return ClassStopped(record, stopped, removed)


def _leftovers(record: dict[str, Any], state_dir: Path) -> tuple[Path, ...]:
    """Remove what a killed class left of its kiosks: each control socket nothing serves any
    more, and each endpoints manifest beside it (so nobody dials a kiosk that is gone)."""
    from devices.transports.control_client import server_pid

    removed = []
    for seat in record.get("trainees") or []:
        home = state_dir / str(seat["terminal"])
        sock = home / "control.sock"
        if server_pid(sock) is not None:  # served again: another kiosk's now
            continue
        for path in (sock, home / "endpoints.json"):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
    return tuple(removed)


def seats(count: int, prefix: str = "KSK-T") -> list[tuple[str, str]]:
    """``(trainee, terminal)`` names: ``t01``/``KSK-T01`` ..."""
    if count < 1:
        raise ConfigError(f"--trainees(={count}) must be >= 1")
    width = max(2, len(str(count)))
    return [(f"t{i:0{width}d}", f"{prefix}{i:0{width}d}") for i in range(1, count + 1)]


def new_class_id(now: float | None = None) -> str:
    """A class's id: when it began (UTC, to the minute, for people) and 32 random bits (so two
    classes never share one): ``20261202-1712-9f3c2a1b``."""
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(4)}"


class Classroom:
    """Start a class (an async context manager around :class:`LiveScenario`)."""

    def __init__(
        self,
        loaded: Loaded,
        state_dir: str | Path,
        trainees: int,
        *,
        speed: float = 60.0,
        hours: float = 1.0,
        prefix: str = "KSK-T",
    ) -> None:
        self.loaded = loaded
        self.state_dir = Path(state_dir).resolve()
        self.hours = hours
        self.seats = seats(trainees, prefix)
        self.class_id = new_class_id()
        self.live = LiveScenario(
            loaded,
            self.state_dir,
            [t for _, t in self.seats],
            speed=speed,
            class_id=self.class_id,
        )
        self.trainees: list[Trainee] = []

    async def __aenter__(self) -> Classroom:
        self._refuse_a_running_seat()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ensure_ca(self.live.ca_dir)
        self.trainees = [self._seat(name, tid) for name, tid in self.seats]
        await self.live.__aenter__()
        try:
            for trainee in self.trainees:
                trainee.handout.write_text(self.handout(trainee))
            self._write_record()
        except BaseException:
            await self.live.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.live.close()

    def _refuse_a_running_seat(self) -> None:
        """Refuse, before any trainee's key or certificate is touched, a class whose kiosks
        already run here (a second ``class up`` re-signed the running class's certificates
        before its kiosks failed to start, and said to use another ``--id``, which class up
        has not)."""
        from devices.transports.control_client import answers

        for _, terminal in self.seats:
            if answers(self.state_dir / terminal / "control.sock"):
                raise DeviceError(
                    f"{terminal} already runs under {self.state_dir}: a class is running there; "
                    "stop it with 'workbench class stop' or use another --state-dir"
                )

    @staticmethod
    def ticket(name: str) -> str:
        """The ticket a trainee's window names (and their TUI session gives as its reason); not
        the scenario's name, which a trainee reads in their certificate and which can give the
        answer away (display-no-signal-needs-visit)."""
        return f"TRAIN-{name.upper()}"

    def _seat(self, name: str, terminal: str) -> Trainee:
        """A key (made once, 0600) and a fresh window certificate for the trainee's kiosk, naming
        this class (the class's agents admit no other)."""
        from remote.window import CertificateAuthority, engineer_key

        home = self.state_dir / "trainees" / name
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        key_path = home / "key"
        key = engineer_key(key_path, f"{name}@class")
        ca = CertificateAuthority(self.live.ca_dir)
        grant = ca.grant(
            [terminal],
            key.convert_to_public(),
            engineer=f"{name}@class",
            hours=self.hours,
            allow=("diag", "remedy"),
            ticket=self.ticket(name),
            class_id=self.class_id,
        )
        cert = home / "key-cert.pub"
        cert.write_bytes(grant.certificate)
        return Trainee(name, terminal, key_path, cert, home / "handout.md")

    def handout(self, t: Trainee) -> str:
        """One page: who you are, how to connect, what the branch reported. No answer key, nor
        the scenario's name or title (the trainer's words: 'A dark screen that looks like a
        remote fix but needs a visit')."""
        s = self.loaded.scenario
        state = self.state_dir
        manifest = state / t.terminal / "endpoints.json"
        agent = json.loads(manifest.read_text()).get("agent", "?")
        known = self.live.ca_dir / "known_hosts"
        host, _, port = str(agent).rpartition(":")
        return f"""# Training: a ticket from {s.ticket.reporter}

You are **{t.name}**, remote support engineer on duty. Your terminal: **{t.terminal}**
(profile {s.profile}). Your remote window is open for {self.hours:g} h from the start of the
class; it allows diagnostics and remote remedies.

## The ticket

Received at {s.clock_text(s.start_offset + s.ticket.at)} (simulated; the clock runs
{self.live.speed:g}x) from {s.ticket.reporter}, severity {s.severity}:

> {" ".join(s.ticket.text.split())}

## Connect

```console
export WORKBENCH_STATE_DIR={state}
workbench remote run --endpoints {manifest} --key {t.key} --cert {t.cert} --known-hosts {known} quick
workbench remote exec --endpoints {manifest} --key {t.key} --cert {t.cert} --known-hosts {known} status
workbench remote remedy --state-dir {state} --key {t.key} --cert {t.cert} --known-hosts {known} {t.terminal} ACTION
ssh -i {t.key} -o CertificateFile={t.cert} -o UserKnownHostsFile={known} -o HostKeyAlias={t.terminal} -p {port} {t.terminal}@{host} diag run inspection
```

Or in the TUI (your terminal in the fleet, Enter: `i` inspection, `m` remedy):

```console
workbench tui --state-dir {state} --key {t.key} --cert {t.cert} --known-hosts {known} --ticket {self.ticket(t.name)}
```

Commands on the terminal: `status`, `diag list`, `diag run SUITE|TEST...` (suites:
`inspection`, `quick`, `device:NAME`), `logs`, `remedy ACTION` (a remedy name or a fault id).

## When it needs hands on site

Send an engineer (travel and repair take simulated time):

```console
workbench scenario dispatch FAULT_ID --id {t.terminal}
```

Work as you would on a real terminal: find out what is wrong, fix what can be fixed
remotely, send an engineer only for what cannot, and do no harm to customers' money.
"""

    def _write_record(self) -> None:
        s = self.loaded.scenario
        record = {
            "scenario": s.name,
            "source": str(self.loaded.source.resolve()),
            "speed": self.live.speed,
            "started": time.time(),
            "pid": os.getpid(),
            "class_id": self.class_id,
            "ca": str(self.live.ca_dir),
            "trainees": [
                {
                    "name": t.name,
                    "terminal": t.terminal,
                    "key": str(t.key),
                    "cert": str(t.cert),
                    "handout": str(t.handout),
                }
                for t in self.trainees
            ],
        }
        path = class_path(self.state_dir)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, path)
