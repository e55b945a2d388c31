"""The kiosk application as its health endpoint shows it: services with states and versions against
the expected release manifest, the last customer transaction, and whether the app answers at all.

``GET /health`` serves :class:`devices.protocols.health.AppHealth`; a hung application accepts
the connection and never answers, so a probe with a 2 s timeout fails the way it does in the
field.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

import simpy

from devices.base import Arg, EventSink, ServedDevice, action
from devices.protocols.health import AppHealth, ServiceHealth, ServiceState
from devices.transports.http import HANG, HttpPort
from workbench.config import Strict
from workbench.errors import DeviceError
from workbench.faults import FaultMode

log = logging.getLogger(__name__)

SERVICE_CRASHED = "system_software.service_crashed"
VERSION_MISMATCH = "system_software.version_mismatch"
APP_HUNG = "system_software.app_hung"

DEFAULT_MANIFEST = {
    "kiosk-ui": "4.12.0",
    "payment-service": "2.8.3",
    "device-manager": "1.19.2",
    "receipt-spooler": "1.4.0",
    "remote-agent": "3.2.1",
}


class SystemSoftwareSettings(Strict):
    """The installed release and which service a fault hits."""

    app: str = "kiosk-app"
    release: str = "2026.3.1"
    manifest: dict[str, str] = DEFAULT_MANIFEST
    """Service name -> version the release expects."""
    crash_service: str = "payment-service"
    """The service an injected ``service_crashed`` takes down."""
    stale_service: str = "device-manager"
    stale_version: str = "1.18.0"
    """What a ``version_mismatch`` leaves running (an update that did not finish)."""


def _installed(name: str, settings: Any) -> str | None:
    services: dict[str, str] = settings.manifest
    return None if name in services else f"a service of the release ({', '.join(services)})"


SERVICE = Arg("a service's name", str, _installed)
"""The service ``restart-service`` restarts: one of the release's manifest (its settings)."""


@dataclass(slots=True)
class Service:
    """One service process."""

    state: ServiceState
    version: str
    restarts: int = 0


@dataclass(slots=True)
class AppState:
    """Service processes, application start and customer transactions."""

    services: dict[str, Service]
    started_at: float
    last_transaction: float | None = None
    transactions: int = 0


class SystemSoftware(ServedDevice[SystemSoftwareSettings]):
    """The kiosk application. Actions: ``restart-service [NAME]`` (no name: the crashed ones),
    ``restart-app``, ``update``, ``transaction``."""

    kind = "system_software"

    def __init__(
        self,
        env: simpy.Environment,
        settings: SystemSoftwareSettings,
        modes: list[FaultMode],
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(env, settings, modes, name=name, rng=rng, sink=sink)
        for role in ("crash_service", "stale_service"):
            if getattr(settings, role) not in settings.manifest:
                raise DeviceError(
                    f"system_software {role}(={getattr(settings, role)!r}) is not in the manifest "
                    f"({', '.join(settings.manifest)})"
                )
        self.state = AppState(
            services={n: Service("running", v) for n, v in settings.manifest.items()},
            started_at=env.now,
        )

    # -- faults ------------------------------------------------------------------------------
    def _apply(self, fault_id: str, active: bool) -> None:
        s, services = self.settings, self.state.services
        if fault_id == SERVICE_CRASHED:
            services[s.crash_service].state = "crashed" if active else "running"
            if not active:
                for svc in services.values():
                    if svc.state == "crashed":
                        svc.state = "running"
        elif fault_id == VERSION_MISMATCH:
            if active:
                services[s.stale_service].version = s.stale_version
            else:
                for name, svc in services.items():
                    svc.version = s.manifest[name]

    # -- actions -----------------------------------------------------------------------------
    @action("restart-service", "Restart one service (every crashed one by default)", name=SERVICE)
    def _act_restart_service(self, name: str | None = None) -> str:
        """Restart one service, or without a name every crashed one (the remote remedy)."""
        services = self.state.services
        if name is not None and name not in services:  # act says the declared form
            raise DeviceError(f"no service {name!r}; services: {', '.join(services)}")
        names = [name] if name else [n for n, v in services.items() if v.state == "crashed"]
        for n in names:
            services[n].state = "running"
            services[n].restarts += 1
            self.record("service_restarted", name=n)
        if not any(v.state == "crashed" for v in services.values()):
            self.clear(SERVICE_CRASHED)
        return f"{', '.join(names)} running" if names else "no crashed service"

    @action("restart-app", "Restart the kiosk application")
    def _act_restart_app(self) -> str:
        st = self.state
        for svc in st.services.values():
            svc.state = "running"
            svc.restarts += 1
        st.started_at = self.env.now
        self.record("app_restarted")
        self.clear(APP_HUNG)
        self.clear(SERVICE_CRASHED)
        return f"{self.settings.app} restarted"

    @action("update", "Install the release the manifest names")
    def _act_update(self) -> str:
        self.record("updated", release=self.settings.release)
        self.clear(VERSION_MISMATCH)
        return f"release {self.settings.release} installed"

    @action("transaction", "A customer completes a transaction")
    def _act_transaction(self) -> str:
        if self.has(APP_HUNG):
            raise DeviceError(f"{self.settings.app} is hung: no transaction possible")
        st = self.state
        st.last_transaction = self.env.now
        st.transactions += 1
        self.record("transaction", n=st.transactions)
        return f"transaction {st.transactions}"

    # -- what the endpoint says --------------------------------------------------------------
    def health(self) -> AppHealth:
        """The ``/health`` document now (what it would say if the app answered)."""
        s, st, now = self.settings, self.state, self.env.now
        return AppHealth(
            app=s.app,
            responsive=not self.has(APP_HUNG),
            release=s.release,
            services=[
                ServiceHealth(name=n, state=v.state, version=v.version, restarts=v.restarts)
                for n, v in st.services.items()
            ],
            manifest=dict(s.manifest),
            mismatched=[n for n, v in st.services.items() if v.version != s.manifest[n]],
            uptime_s=now - st.started_at,
            last_transaction_s=st.last_transaction,
            seconds_since_transaction=None
            if st.last_transaction is None
            else now - st.last_transaction,
            transactions=st.transactions,
        )

    def _route_health(self) -> Any:
        if self.has(APP_HUNG):
            return HANG
        return self.health().model_dump(mode="json")

    def status(self) -> dict[str, Any]:
        """Faults and the health document."""
        return {**super().status(), "health": self.health().model_dump(mode="json")}

    def open_port(self, kind: str, host: str) -> HttpPort:
        """``GET /health`` over HTTP."""
        if kind != "http":
            raise DeviceError(f"{self.name} has no {kind!r} port; it serves http")
        return HttpPort({"/health": self._route_health}, host=host, name=self.name, clock=self)
