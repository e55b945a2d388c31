"""The TUI's backend over the real thing: simulated (or real) terminals found under a state
directory, their agents reached over SSH with the engineer's window certificate
(:mod:`remote.client`), grants signed by a local CA when one is given, and the records store.

Every store access opens its own short connection (SQLite connections belong to one thread and
workers may run in threads); every remote call opens its own SSH connection, as the CLI does.
asyncssh, the diagnostics and the remedies are imported by the methods that use them, so the
first frame does not wait for them (about 0.5 s of imports).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.backend import (
    RECORDS_BACK,
    RemedyView,
    TerminalRow,
    TrailEntry,
    WindowView,
    says_little,
)
from tui.live_class import ClassOps
from tui.live_trainer import TrainerOps
from workbench.errors import ConfigError, RemoteError, WorkbenchError

if TYPE_CHECKING:
    from remote.client import Identity
    from remote.endpoint import Endpoint
    from workbench.records import MaintenanceRun
    from workbench.store import RecordStore

log = logging.getLogger(__name__)


def _key_beside(cert: Path | None) -> Path | None:
    """``alice-cert.pub`` -> ``alice`` when that file exists (where ssh-keygen puts them)."""
    if cert is None or not cert.name.endswith("-cert.pub"):
        return None
    key = cert.with_name(cert.name.removesuffix("-cert.pub"))
    return key if key.is_file() else None


class LiveBackend(TrainerOps, ClassOps):
    """:class:`tui.backend.Backend` over a state directory, a CA (optional) and SSH."""

    def __init__(
        self,
        state_dir: Path,
        *,
        store: Path | None = None,
        ca: Path | None = None,
        key: Path | None = None,
        cert: Path | None = None,
        known_hosts: Path | None = None,
        engineer: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.store_path = store or self.state_dir / "records.sqlite"
        self.ca_dir = ca
        self.key_path = key or _key_beside(cert) or self.state_dir / "engineer"
        self.known_hosts = known_hosts or (ca / "known_hosts" if ca else None)
        self.engineer = engineer or f"{getpass.getuser()}@workbench"
        self.can_request = ca is not None
        self._identity: Identity | None = None
        self._window: WindowView | None = None
        self._trail: list[TrailEntry] = []
        self._session: int | None = None
        self._reason = ""
        self._cert_given = cert
        if cert is not None:
            self._check_certificate_paths(cert)  # the cheap checks now, the rest in open()

    def open(self) -> None:
        """Read the CA directory and the window certificate given at start (asyncssh, YAML): a
        clear error if either is not one. The app runs this after its first frame."""
        if self.ca_dir is not None:
            from remote.window import CertificateAuthority

            CertificateAuthority(self.ca_dir)
        if self._cert_given is not None:
            self.load_certificate(self._cert_given)

    # -- records --------------------------------------------------------------------------------
    def _store(self) -> RecordStore:
        from workbench.store import RecordStore  # sqlite and the schema: not for the first frame

        return RecordStore(self.store_path)

    def start_session(self, reason: str) -> None:
        self._reason = reason
        with self._store() as store:
            self._session = store.open_session(self.engineer, reason, "tui")
        self._note("-", "session", "started", f"reason {reason}")

    def end_session(self) -> None:
        if self._session is not None:
            with self._store() as store:
                store.close_session(self._session)
            self._session = None

    def _note(self, terminal: str, action: str, outcome: str, detail: str = "") -> None:
        self._trail.append(TrailEntry(time.time(), terminal, action, outcome, detail))

    def trail(self, terminal: str | None = None) -> list[TrailEntry]:
        return [e for e in self._trail if terminal is None or e.terminal in (terminal, "-")]

    def history(self, terminal: str | None, limit: int = 200) -> list[MaintenanceRun]:
        scope = self._class_seat()
        if not self.store_path.exists() or (scope is not None and terminal not in (None, *scope)):
            return []
        with self._store() as store:
            if scope is None or terminal is not None:
                return store.maintenance_runs(terminal, limit=limit)
            runs = [r for t in sorted(scope) for r in store.maintenance_runs(t, limit=limit)]
        return sorted(runs, key=lambda r: r.started, reverse=True)[:limit]

    def _class_seat(self) -> frozenset[str] | None:
        """The terminals a class trainee's session may list and read the records of (those its
        window names), or None (anyone may: the trainer, an engineer). A trainee's is a window
        without the trainer group whose terminals are all kiosks of the class under the state
        dir: the classmates play the same scenario, so their rows and records are the answer."""
        window = self._window
        if window is None or "trainer" in window.allow:
            return None
        try:
            record = json.loads((self.state_dir / "class.json").read_text())
            seats = {str(t["terminal"]) for t in record["trainees"]}
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no class here
        principals = frozenset(window.principals)
        return principals if principals and principals <= seats else None

    # -- the fleet ------------------------------------------------------------------------------
    def _manifests(self) -> dict[str, dict[str, Any]]:
        from remote.endpoint import discover

        out = {}
        for path in discover(self.state_dir):
            try:
                manifest = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # a kiosk writing or removing it right now
            if isinstance(manifest, dict):
                out[str(manifest.get("terminal") or path.parent.name)] = manifest
        return out

    def terminals(self) -> list[TerminalRow]:
        manifests = self._manifests()
        profiles: dict[str, str] = {}
        grants: dict[str, int] = {}
        runs: dict[str, list[MaintenanceRun]] = {}  # each terminal's newest record(s)
        if self.store_path.exists():
            with self._store() as store:
                profiles, grants = store.known_terminals(), store.active_grants()
                for tid, run in store.latest_runs().items():
                    # past a remedy's record or a broken run's: what the run before found (the
                    # few terminals whose newest record is one)
                    back = says_little(run)
                    runs[tid] = store.maintenance_runs(tid, limit=RECORDS_BACK) if back else [run]
        window = self._window
        now = time.time()
        rows = []
        for tid in sorted({*profiles, *grants, *runs, *manifests}):
            manifest = manifests.get(tid, {})
            until = grants.get(tid)
            if window and tid in window.principals and window.open_at(now):
                until = max(until or 0, window.valid_before)
            rows.append(
                TerminalRow(
                    tid,
                    str(manifest.get("profile") or profiles.get(tid) or "-"),
                    str(manifest.get("site") or "-"),
                    "?" if manifest.get("agent") else "-",
                    window_until=until,
                ).recorded(runs.get(tid, ()))
            )
        scope = self._class_seat()
        return rows if scope is None else [r for r in rows if r.terminal in scope]

    async def probe(self, terminal: str) -> str:
        try:
            endpoint = self._endpoint(terminal)
        except WorkbenchError:
            return "-"
        from remote.endpoint import probe

        return await probe(endpoint.host, endpoint.port)

    def _endpoint(self, terminal: str) -> Endpoint:
        from remote.endpoint import Endpoint

        return Endpoint.from_manifest(self.state_dir / terminal / "endpoints.json")

    def _manifest(self, terminal: str) -> dict[str, Any]:
        path = self.state_dir / terminal / "endpoints.json"
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the endpoints manifest: {exc}") from None
        return manifest if isinstance(manifest, dict) else {}

    # -- the window -----------------------------------------------------------------------------
    def window(self) -> WindowView | None:
        return self._window

    def _check_certificate_paths(self, path: Path) -> Path:
        """The known_hosts file to trust the terminals with, when ``path`` can be a certificate;
        checked without reading either (no asyncssh yet)."""
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such file (a window certificate, KEY-cert.pub)")
        if self.known_hosts is None:
            raise ConfigError("give --known-hosts (CA/known_hosts) to trust the terminals")
        return self.known_hosts

    def load_certificate(self, path: Path) -> WindowView:
        known_hosts = self._check_certificate_paths(path)
        from remote.client import Identity
        from remote.window import read_certificate_info

        identity = Identity.load(self.key_path, path, known_hosts)
        info = read_certificate_info(path)
        self._identity = identity
        self.engineer = identity.engineer
        self._window = WindowView(
            info.key_id,
            info.principals,
            info.allow,
            info.ticket,
            info.valid_after,
            info.valid_before,
            info.serial,
            Path(path),
        )
        self._note("-", "window", "loaded", f"{path} (serial {info.serial})")
        return self._window

    def request_window(
        self, terminals: Sequence[str], hours: float | None, allow: Sequence[str], ticket: str
    ) -> WindowView:
        if self.ca_dir is None:
            raise ConfigError("no CA: start with --ca DIR to request a window, or load one")
        from remote.window import CertificateAuthority, engineer_key, parse_allow

        authority = CertificateAuthority(self.ca_dir)
        key = engineer_key(self.key_path, self.engineer)
        with self._store() as store:
            grant = authority.grant(
                list(terminals),
                key,
                hours=hours,
                allow=parse_allow(",".join(allow)),
                ticket=ticket or None,
                store=store,
            )
        cert = self.key_path.with_name(self.key_path.name + "-cert.pub")
        cert.write_bytes(grant.certificate)
        cert.chmod(0o600)
        return self.load_certificate(cert)

    def refusal(self, terminal: str) -> str | None:
        if self._identity is None:
            return "no window: request one or load a certificate (Window screen, w)"
        return self._identity.refusal(terminal)

    def _reach(self, terminal: str) -> tuple[Endpoint, Identity]:
        why = self.refusal(terminal)
        if why is not None or self._identity is None:
            raise RemoteError(f"{terminal}: {why}")
        return self._endpoint(terminal), self._identity

    # -- diagnostics and remedies ---------------------------------------------------------------
    def suites(self) -> list[str]:
        from remote.diagnostics import registry

        return list(registry.suites())

    def suite_tests(self, suite: str) -> list[str]:
        from remote.diagnostics import registry

        return list(registry.suites().get(suite, []))

    def remedies_for(self, fault: str | None) -> list[str]:
        from remote import remedies
        from remote.diagnostics.base import catalog

        if fault is None:
            return list(remedies.REMEDIES)
        faults = catalog()
        mode = faults[fault] if fault in set(faults) else None
        return [mode.remedy] if mode is not None and mode.remedy else []

    async def _lines(self, terminal: str, command: str) -> list[dict[str, Any]]:
        from remote.client import AgentClient

        endpoint, identity = self._reach(terminal)
        async with AgentClient(endpoint, identity) as client:
            lines, _ = await client.run(command)
        for line in lines:
            if line.get("event") == "error":
                raise RemoteError(f"{terminal}: {line.get('error')}")
        return lines

    async def status(self, terminal: str) -> dict[str, Any]:
        lines = await self._lines(terminal, "status")
        return next((line for line in lines if line.get("event") == "status"), {})

    async def logs(self, terminal: str, since: float | None) -> list[dict[str, Any]]:
        command = "logs" if since is None else f"logs --since {since}"
        return [line for line in await self._lines(terminal, command) if line.get("event") == "log"]

    async def run(self, terminal: str, suite: str) -> AsyncIterator[dict[str, Any]]:
        from remote.client import RunReport, record_run, run_suite

        try:
            endpoint, identity = self._reach(terminal)
        except WorkbenchError as exc:
            self._note(terminal, f"run {suite}", "refused", str(exc))
            yield {"event": "done", "outcome": "refused", "error": str(exc), "run_id": None}
            return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def line(obj: dict[str, Any]) -> None:
            if obj.get("event") == "result":
                queue.put_nowait(obj)

        task = asyncio.ensure_future(run_suite(endpoint, identity, suite, on_line=line))
        while not (task.done() and queue.empty()):
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()
        report: RunReport = task.result()
        with self._store() as store:
            run_id = record_run(store, report)
        self._note(terminal, f"run {suite}", report.outcome, report.error or f"run {run_id}")
        yield {"event": "done", "outcome": report.outcome, "error": report.error, "run_id": run_id}

    async def remedy(self, terminal: str, action: str) -> RemedyView:
        from remote.remedy_client import apply_remedy, record_remedy

        endpoint, identity = self._reach(terminal)
        report = await apply_remedy(endpoint, identity, action)
        if report.error is None:
            with self._store() as store:
                record_remedy(store, report)
        self._note(terminal, f"remedy {action}", report.outcome, report.error or report.detail)
        return RemedyView(
            terminal,
            report.action,
            report.outcome,
            report.error or report.detail,
            report.steps,
            report.retest,
        )
