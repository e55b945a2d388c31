"""The engineer's side: connect to a terminal's agent with a key and its window certificate,
check the terminal's host certificate against the host CA, stream a command's JSON lines, run a
suite and store its results as a maintenance record.

Built on it: a remedy and its re-test (:mod:`remote.remedy_client`), and the same suite over a
fleet with bounded concurrency (:mod:`remote.fleet`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from remote.audit import Seal
from remote.certs import CertInfo, fingerprint
from remote.endpoint import Endpoint
from remote.window_text import clock as _clock
from workbench.errors import AuthError, ConfigError, RemoteError, TransportError, WorkbenchError
from workbench.records import finding_text
from workbench.store import RecordStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """The engineer's key, window certificate and trust in the host CA; ``user_ca`` (when the
    client has it) lets :meth:`refusal` tell a certificate from another CA."""

    key: asyncssh.SSHKey
    cert: asyncssh.SSHCertificate
    known_hosts: asyncssh.SSHKnownHosts
    engineer: str
    info: CertInfo | None = None
    user_ca: asyncssh.SSHKey | None = None

    @classmethod
    def load(cls, key: str | Path, cert: str | Path, known_hosts: str | Path) -> Identity:
        """Read the three files, naming the bad one in the error. A ``user_ca.pub`` beside the
        known_hosts file (a CA directory) is read too."""
        from remote.window import read_certificate_info, read_public_key

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
        user_ca_path = Path(known_hosts).with_name("user_ca.pub")
        user_ca = read_public_key(user_ca_path) if user_ca_path.is_file() else None
        return cls(private, asyncssh.read_certificate(str(cert)), trust, info.key_id, info, user_ca)

    def refusal(self, terminal: str, now: float | None = None) -> str | None:
        """Why an agent would refuse this certificate for ``terminal``, as far as the client can
        tell from the certificate it holds (expired, not yet valid, other terminal, untrusted
        CA); None when it looks good."""
        if self.info is None:
            return None
        return refusal(self.info, terminal, now, self.user_ca)


def refusal(
    info: CertInfo, terminal: str, now: float | None = None, user_ca: asyncssh.SSHKey | None = None
) -> str | None:
    """The exact reason a terminal's agent refuses this certificate, or None (see
    :meth:`Identity.refusal`)."""
    now = time.time() if now is None else now
    if info.kind != "user":
        return "this is a host certificate, not a user certificate"
    if user_ca is not None and info.signing_key != user_ca:
        return f"untrusted CA: signed by {fingerprint(info.signing_key)}, not the support user CA"
    if terminal not in info.principal_set:
        return f"other terminal: the certificate is for {_names(info.principals)}"
    if now < info.valid_after:
        return f"not yet valid: the window opens at {_clock(info.valid_after)}"
    if now >= info.valid_before:
        return f"expired: the window closed at {_clock(info.valid_before)}"
    return None


def _names(principals: tuple[str, ...], shown: int = 3) -> str:
    """``A, B, C and 4,997 more``: a fleet grant's principals, short enough for one line."""
    if not principals:
        return "nobody"
    head = ", ".join(principals[:shown])
    rest = len(principals) - shown
    return f"{head} and {rest:,} more" if rest > 0 else head


class _Banner(asyncssh.SSHClient):
    """Keeps the agent's auth banner: why it refused a certificate its CA signed."""

    def __init__(self) -> None:
        self.text = ""

    def auth_banner_received(self, msg: str, lang: str) -> None:
        self.text += msg

    def refusal(self) -> str | None:
        """The reason in ``KSK-T01: certificate 'x' (serial 3) refused: REASON``, or None."""
        _, sep, reason = self.text.partition(" refused: ")
        return reason.strip().splitlines()[0] if sep and reason.strip() else None


class AgentClient:
    """One SSH connection to one agent; an async context manager."""

    def __init__(
        self, endpoint: Endpoint, identity: Identity, *, connect_timeout: float = 10.0
    ) -> None:
        self.endpoint = endpoint
        self.identity = identity
        self.connect_timeout = connect_timeout
        self.exit_status: int | None = None
        self.seal: Seal | None = None
        """The newest audit seal the agent handed over."""
        self.host_key: str | None = None
        """The terminal's host key (OpenSSH one-line), verified through its host certificate."""
        self._conn: asyncssh.SSHClientConnection | None = None

    async def __aenter__(self) -> AgentClient:
        ep, ident = self.endpoint, self.identity
        where = f"{ep.terminal} at {ep.host}:{ep.port}"
        banner = _Banner()
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
                    client_factory=lambda: banner,
                ),
                self.connect_timeout,
            )
        except asyncssh.PermissionDenied:
            why = ident.refusal(ep.terminal) or banner.refusal() or "expired, other terminal or CA?"
            raise AuthError(f"{where}: the agent refused this certificate ({why})") from None
        except asyncssh.HostKeyNotVerifiable as exc:
            raise AuthError(f"{where}: host certificate not trusted: {exc.reason}") from None
        except TimeoutError:
            raise TransportError(f"{where}: no answer within {self.connect_timeout:g} s") from None
        except (OSError, asyncssh.Error) as exc:
            raise TransportError(f"{where}: cannot connect: {exc}") from None
        key = self._conn.get_server_host_key()
        self.host_key = bytes(key.export_public_key()).decode().strip() if key else None
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
                    if isinstance(obj, dict) and obj.get("event") == "seal":
                        self._keep_seal(obj)  # the audit seal is for the records, not the caller
                        continue
                    yield obj if isinstance(obj, dict) else {"event": "raw", "text": text}
                await proc.wait_closed()
                self.exit_status = proc.exit_status
        except (asyncssh.Error, ConnectionError) as exc:
            yield {"event": "error", "code": "transport", "error": str(exc)}

    def _keep_seal(self, line: dict[str, Any]) -> None:
        # kept as sent: the SSH session already proved the sender (its host certificate), and
        # `audit verify --store` checks the seal against the host key kept with it
        try:
            self.seal = Seal(int(line["seq"]), str(line["hash"]), str(line["seal"]))
        except (KeyError, TypeError, ValueError):
            log.warning("%s: a malformed audit seal line", self.endpoint.terminal)

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
    outcome: str = "error"  # pass | warn | fail | error (a test or the run) | cut off
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    exit_status: int | None = None
    seal: Seal | None = None
    host_key: str | None = None

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "warn": 0, "fail": 0}
        for r in self.results:
            out[str(r.get("status"))] = out.get(str(r.get("status")), 0) + 1
        return out

    def what_went_wrong(self) -> str:
        """One line of what the run found, as a stored record says it
        (:meth:`workbench.records.MaintenanceRun.what_went_wrong`): each test that did not pass with its suspected
        fault, why a test could not be carried out, and why the run broke."""
        parts = [
            finding_text(
                str(r.get("test")), str(r.get("status")), r.get("suspect"), r.get("detail")
            )
            for r in self.results
            if r.get("status") != "pass"
        ]
        if self.error:
            parts.append(self.error)
        return "; ".join(parts)


async def run_suite(
    endpoint: Endpoint,
    identity: Identity,
    suite: str,
    *,
    on_line: Callable[[dict[str, Any]], None] | None = None,
    connect_timeout: float = 10.0,
    check_names: bool = False,
) -> RunReport:
    """Run ``diag run SUITE`` on one terminal; never raises for the terminal's own problems.

    With ``check_names`` the agent's ``diag list`` is asked first and a name it does not know
    raises :class:`ConfigError` (a usage mistake: nothing was run, nothing should be stored).
    """
    report = RunReport(endpoint.terminal, suite, identity.engineer, time.time())
    try:
        async with AgentClient(endpoint, identity, connect_timeout=connect_timeout) as client:
            if check_names:
                await _check_names(client, suite.split())
            async for line in client.stream(f"diag run {suite}"):
                if on_line is not None:
                    on_line(line)
                if line.get("event") == "result":
                    report.results.append(line)
                elif line.get("event") in ("error", "window_closed"):
                    report.error = str(line.get("error") or line.get("message"))
            report.exit_status = client.exit_status
            report.seal, report.host_key = client.seal, client.host_key
    except UnknownNames:
        raise
    except WorkbenchError as exc:  # refused, unreachable, bad manifest: this terminal only
        report.error = str(exc)
    report.finished = time.time()
    report.outcome = _outcome(report)
    return report


class UnknownNames(ConfigError):
    """A suite or test name the terminal's agent does not list."""


async def _check_names(client: AgentClient, names: list[str]) -> None:
    lines, _ = await client.run("diag list")
    known = {str(line.get("name")) for line in lines if line.get("event") == "diag"}
    unknown = [n for n in names if n not in known]
    if not known or not unknown:
        return
    suites = sorted(str(x.get("name")) for x in lines if x.get("kind") == "suite")
    hint = "; remedies go through `workbench remote remedy`" if "remedy" in names else ""
    raise UnknownNames(
        f"{client.endpoint.terminal} has no suite or test {', '.join(map(repr, unknown))} "
        f"(suites: {', '.join(suites)}; tests: `diag list`){hint}"
    )


def _outcome(report: RunReport) -> str:
    if report.exit_status is None and report.results and report.error:
        return "cut off"
    if report.exit_status not in (0, 1):
        return "error"
    return verdict(report.counts())


def verdict(counts: dict[str, int]) -> str:
    """A run's outcome from its result counts: a device failure, then a test that could not be
    carried out (``error``), then a warning."""
    if counts.get("fail"):
        return "fail"
    if counts.get("error"):
        return "error"
    return "warn" if counts.get("warn") else "pass"


def record_run(store: RecordStore, report: RunReport, ticket: int | None = None) -> int:
    """Store a run as a maintenance record with one diag result per test; returns its id."""
    run_id = store.add_maintenance_run(
        report.terminal,
        report.suite,
        report.engineer,
        report.started,
        report.finished,
        report.outcome,
        report.results,
        report.error,
        ticket,
    )
    if report.seal is not None and report.host_key:
        keep_seal(store, report.terminal, report.seal, report.host_key)
    return run_id


def keep_seal(store: RecordStore, terminal: str, seal: Seal, host_key: str) -> None:
    """Keep the newest audit seal a terminal handed over (``audit verify --store`` reads it)."""
    store.keep_audit_seal(terminal, seal.seq, seal.hash, seal.seal, host_key)
