"""The engineer's side: connect to a terminal's agent with a key and its window certificate,
check the terminal's host certificate against the host CA, stream a command's JSON lines, store
suite results as maintenance records, and fan out over a fleet with bounded concurrency.

A fleet run uses one certificate naming every terminal it may reach as a principal (see
docs/remote.md for why, and for the per-terminal alternative).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from workbench.errors import AuthError, ConfigError, RemoteError, TransportError, WorkbenchError
from workbench.store import RecordStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a terminal's agent listens; the terminal id is also the login name and host alias."""

    terminal: str
    host: str
    port: int

    @classmethod
    def from_manifest(cls, path: str | Path) -> Endpoint:
        """Read ``DIR/ID/endpoints.json`` (its ``"agent": "host:port"`` key)."""
        p = Path(path)
        try:
            manifest = json.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{p}: no such file (is the kiosk running?)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{p}: not an endpoints manifest: {exc}") from None
        agent = manifest.get("agent") if isinstance(manifest, dict) else None
        if not agent:
            raise ConfigError(f"{p}: no 'agent' address (was the kiosk started with --ca?)")
        host, _, port = str(agent).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{p}: agent(={agent!r}) must be host:port")
        return cls(str(manifest.get("terminal") or p.parent.name), host, int(port))


@dataclass(frozen=True)
class Identity:
    """The engineer's key, window certificate and trust in the host CA."""

    key: asyncssh.SSHKey
    cert: asyncssh.SSHCertificate
    known_hosts: asyncssh.SSHKnownHosts
    engineer: str

    @classmethod
    def load(cls, key: str | Path, cert: str | Path, known_hosts: str | Path) -> Identity:
        """Read the three files, naming the bad one in the error."""
        from remote.window import read_certificate_info

        try:
            private = asyncssh.read_private_key(str(key))
        except FileNotFoundError:
            raise ConfigError(f"{key}: no such file") from None
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError(f"{key}: cannot read private key: {exc}") from None
        info = read_certificate_info(cert)
        if info.key != private.convert_to_public():
            raise ConfigError(f"{cert}: this certificate is for another key than {key}")
        try:
            trust = asyncssh.import_known_hosts(Path(known_hosts).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{known_hosts}: no such file (copy CA/known_hosts)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{known_hosts}: not a known_hosts file: {exc}") from None
        return cls(private, asyncssh.read_certificate(str(cert)), trust, info.key_id)


class AgentClient:
    """One SSH connection to one agent; an async context manager."""

    def __init__(
        self, endpoint: Endpoint, identity: Identity, *, connect_timeout: float = 10.0
    ) -> None:
        self.endpoint = endpoint
        self.identity = identity
        self.connect_timeout = connect_timeout
        self.exit_status: int | None = None
        self._conn: asyncssh.SSHClientConnection | None = None

    async def __aenter__(self) -> AgentClient:
        ep, ident = self.endpoint, self.identity
        where = f"{ep.terminal} at {ep.host}:{ep.port}"
        try:
            self._conn = await asyncio.wait_for(
                asyncssh.connect(
                    ep.host,
                    ep.port,
                    username=ep.terminal,
                    host_key_alias=ep.terminal,
                    client_keys=[(ident.key, ident.cert)],
                    known_hosts=ident.known_hosts,
                    agent_path=None,
                    config=None,
                    preferred_auth="publickey",
                    password=None,
                ),
                self.connect_timeout,
            )
        except asyncssh.PermissionDenied:
            raise AuthError(
                f"{where}: the agent refused this certificate (expired, other terminal or CA?)"
            ) from None
        except asyncssh.HostKeyNotVerifiable as exc:
            raise AuthError(f"{where}: host certificate not trusted: {exc.reason}") from None
        except TimeoutError:
            raise TransportError(f"{where}: no answer within {self.connect_timeout:g} s") from None
        except (OSError, asyncssh.Error) as exc:
            raise TransportError(f"{where}: cannot connect: {exc}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()

    async def stream(self, command: str) -> AsyncIterator[dict[str, Any]]:
        """Yield the command's JSON lines; afterwards ``exit_status`` is set (None = cut off)."""
        if self._conn is None:
            raise RemoteError("not connected")
        self.exit_status = None
        try:
            async with self._conn.create_process(command, encoding="utf-8") as proc:
                async for line in proc.stdout:
                    text = str(line).strip()
                    if not text:
                        continue
                    try:
                        obj = json.loads(text)
                    except ValueError:
                        obj = {"event": "raw", "text": text}
                    yield obj if isinstance(obj, dict) else {"event": "raw", "text": text}
                await proc.wait_closed()
                self.exit_status = proc.exit_status
        except (asyncssh.Error, ConnectionError) as exc:
            yield {"event": "error", "code": "transport", "error": str(exc)}

    async def run(self, command: str) -> tuple[list[dict[str, Any]], int | None]:
        """Collect every line of a command and its exit status."""
        lines = [obj async for obj in self.stream(command)]
        return lines, self.exit_status


@dataclass(slots=True)
class RunReport:
    """What one suite run on one terminal gave."""

    terminal: str
    suite: str
    engineer: str
    started: float
    finished: float = 0.0
    outcome: str = "error"  # pass | warn | fail | error | cut off
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    exit_status: int | None = None

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "warn": 0, "fail": 0}
        for r in self.results:
            out[str(r.get("status"))] = out.get(str(r.get("status")), 0) + 1
        return out


async def run_suite(
    endpoint: Endpoint,
    identity: Identity,
    suite: str,
    *,
    on_line: Callable[[dict[str, Any]], None] | None = None,
    connect_timeout: float = 10.0,
) -> RunReport:
    """Run ``diag run SUITE`` on one terminal; never raises for the terminal's own problems."""
    report = RunReport(endpoint.terminal, suite, identity.engineer, time.time())
    try:
        async with AgentClient(endpoint, identity, connect_timeout=connect_timeout) as client:
            async for line in client.stream(f"diag run {suite}"):
                if on_line is not None:
                    on_line(line)
                if line.get("event") == "result":
                    report.results.append(line)
                elif line.get("event") in ("error", "window_closed"):
                    report.error = str(line.get("error") or line.get("message"))
            report.exit_status = client.exit_status
    except WorkbenchError as exc:  # refused, unreachable, bad manifest: this terminal only
        report.error = str(exc)
    report.finished = time.time()
    report.outcome = _outcome(report)
    return report


def _outcome(report: RunReport) -> str:
    if report.exit_status is None and report.results and report.error:
        return "cut off"
    if report.exit_status not in (0, 1):
        return "error"
    counts = report.counts()
    return "fail" if counts["fail"] else ("warn" if counts["warn"] else "pass")


def record_run(store: RecordStore, report: RunReport) -> int:
    """Store a run as a maintenance record with one diag result per test; returns its id."""
    with store.transaction() as db:
        run_id = db.execute(
            "INSERT INTO maintenance_runs (terminal, suite, engineer, started, finished, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                report.terminal,
                report.suite,
                report.engineer,
                report.started,
                report.finished,
                report.outcome,
            ),
        ).lastrowid
        for r in report.results:
            detail = {k: v for k, v in r.items() if k not in ("event", "test", "status", "suspect")}
            if report.error:
                detail.setdefault("run_error", report.error)
            db.execute(
                "INSERT INTO diag_results (run_id, test, status, suspect, detail) VALUES (?, ?, ?, ?, ?)",
                (
                    run_id,
                    str(r.get("test")),
                    str(r.get("status")),
                    r.get("suspect"),
                    json.dumps(detail, default=str),
                ),
            )
    return int(run_id or 0)


def discover(state_dir: str | Path) -> list[Path]:
    """Every ``*/endpoints.json`` under a state directory, sorted by terminal id."""
    return sorted(Path(state_dir).glob("*/endpoints.json"))


async def fleet(
    manifests: Sequence[Path],
    identity: Identity,
    suite: str,
    *,
    concurrency: int = 20,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[RunReport], None] | None = None,
    connect_timeout: float = 10.0,
) -> list[RunReport]:
    """Run a suite on every terminal, at most ``concurrency`` at once; one failure stops nothing."""
    if concurrency < 1:
        raise ConfigError(f"concurrency(={concurrency}) must be >= 1")
    gate = asyncio.Semaphore(concurrency)

    async def one(manifest: Path) -> RunReport:
        async with gate:
            try:
                endpoint = Endpoint.from_manifest(manifest)
            except ConfigError as exc:
                report = RunReport(
                    manifest.parent.name,
                    suite,
                    identity.engineer,
                    time.time(),
                    time.time(),
                    "error",
                    error=str(exc),
                )
            else:
                if on_start is not None:
                    on_start(endpoint.terminal)
                try:
                    report = await run_suite(
                        endpoint, identity, suite, connect_timeout=connect_timeout
                    )
                except Exception as exc:  # a bug must not stop the other terminals either
                    log.exception("%s: run failed", endpoint.terminal)
                    report = RunReport(
                        endpoint.terminal,
                        suite,
                        identity.engineer,
                        time.time(),
                        time.time(),
                        "error",
                        error=f"{type(exc).__name__}: {exc}",
                    )
            if on_done is not None:
                on_done(report)
            return report

    return list(await asyncio.gather(*(one(m) for m in manifests)))
