"""A simulated kiosk for the tests of kiosk software: a live terminal on loopback, run by its own
event loop in a background thread, so that blocking kiosk code (pyserial, python-escpos) and
asyncio code alike can talk to its ptys and ports from the test's thread.

    with SimulatedKiosk(profile="bill_payment", speed=60) as kiosk:
        path = kiosk.endpoints["printer"]["serial"]
        kiosk.inject("printer.paper_out")
        ...

The pytest plugin (:mod:`scenarios.pytest_plugin`) yields one of these as the ``kiosk`` fixture.
Every call is carried out on the kiosk's own loop (the SimPy environment is only ever touched
there); it returns once done. Closing it collects the test's dropped serial handles while the
ptys still exist, then closes every port, so nothing is left behind and nothing complains.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from devices.kiosk import KioskHost
from devices.profiles import Profile
from devices.terminal import Terminal
from scenarios.library import Loaded, load
from scenarios.timeline import Observer, Timeline
from workbench.errors import DeviceError, WorkbenchError

log = logging.getLogger(__name__)

T = TypeVar("T")

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0


class SimulatedKiosk:
    """One simulated terminal in live time; use as a context manager (or ``start``/``close``)."""

    def __init__(
        self,
        profile: str | Path = "bill_payment",
        *,
        speed: float = 60.0,
        seed: int = 0,
        terminal_id: str = "KSK-TEST",
        state_dir: str | Path | None = None,
        scenario: str | Path | None = None,
        strict: bool = False,
        record: str | Path | bool | None = None,
    ) -> None:
        self.scenario: Loaded | None = load(scenario) if scenario is not None else None
        self.profile: str | Path | Profile = (
            self.scenario.profile if self.scenario is not None else profile
        )
        self.speed = speed
        self.seed = seed if self.scenario is None else self.scenario.scenario.seed
        self.terminal_id = terminal_id
        self.strict = strict
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:  # Unix socket paths must stay short: not pytest's tmp_path
            self._tmp = tempfile.TemporaryDirectory(prefix="wbk-", dir="/tmp")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir)
        self.transcript_path: Path | None = (
            Path(record)
            if isinstance(record, str | Path)
            else (self.state_dir / "transcript.jsonl" if strict or record else None)
        )
        """The wire transcript being recorded (``record=PATH``; ``record=True`` or strict mode:
        ``STATE/transcript.jsonl``)."""
        self.observer = Observer()
        self.timeline: Timeline | None = None
        self._host: KioskHost | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._error: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SimulatedKiosk:
        """Start the kiosk and return once its ports answer and its manifest is written."""
        self._thread = threading.Thread(target=self._main, name="simulated-kiosk", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise DeviceError(f"the simulated kiosk did not come up within {START_TIMEOUT_S:g} s")
        if self._error is not None:
            self._thread.join()
            self._cleanup_tmp()
            raise self._error
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            start = self.scenario.scenario.start_offset if self.scenario is not None else 0.0
            host = KioskHost(
                self.state_dir,
                self.profile,
                [self.terminal_id],
                speed=self.speed,
                seed=self.seed,
                initial_time=start,
                transcript=self.transcript_path,
            )
            host.listeners.append(self.observer)
            host.listeners.append(self._notify)
            await host.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._host = host
        if self.scenario is not None:
            self.timeline = Timeline(self.terminal, self.scenario.scenario)
            self.timeline.start()
            host.clock.wake()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await host.close()

    def close(self) -> None:
        """Stop the kiosk: dropped serial handles collected first, then every port closed."""
        if self._thread is None:
            return
        gc.collect()  # a test's unclosed pyserial handle is finalised while its pty still exists
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(CALL_TIMEOUT_S)
        self._thread = None
        self._cleanup_tmp()

    def _cleanup_tmp(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatedKiosk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running things on the kiosk's loop ---------------------------------------------------------
    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None or self._host is None:
            coro.close()
            raise DeviceError("the simulated kiosk is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(CALL_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DeviceError(
                f"the simulated kiosk did not answer within {CALL_TIMEOUT_S:g} s"
            ) from None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the kiosk's loop (where the terminal lives) and return its result."""

        async def run() -> T:
            return fn(*args)

        return self._submit(run())

    def run(self, coro_fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``coro_fn()`` on the kiosk's loop (for asyncio helpers that need it)."""

        async def run() -> T:
            return await coro_fn()

        return self._submit(run())

    def _notify(self, *event: Any) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, device: str, kind: str, count: int = 1, timeout_s: float = 10.0) -> None:
        """Return once ``device`` has recorded ``count`` events of ``kind`` since the kiosk came
        up (``wait_for("printer", "receipt")``: the receipt is cut and recorded); raise
        :class:`DeviceError` after ``timeout_s`` of wall time."""
        self._check_device(device)
        key = (self.terminal_id, device, kind)
        with self._changed:
            if not self._changed.wait_for(lambda: self.observer.counts[key] >= count, timeout_s):
                raise DeviceError(
                    f"{device} recorded {self.observer.counts[key]} {kind!r} events in "
                    f"{timeout_s:g} s, not {count}"
                )

    def _check_device(self, device: str) -> None:
        """Refuse a device this kiosk does not have, naming the ones it has."""
        names = self.call(lambda: list(self.terminal.devices))
        if device not in names:
            raise DeviceError(
                f"terminal {self.terminal_id} has no device {device!r}; it has {', '.join(names)}"
            )

    # -- what a test sees ----------------------------------------------------------------------------
    @property
    def host(self) -> KioskHost:
        if self._host is None:
            raise DeviceError("the simulated kiosk is not running")
        return self._host

    @property
    def terminal(self) -> Terminal:
        """The simulated terminal (touch it only through :meth:`call`)."""
        return self.host.terminals[self.terminal_id]

    @property
    def manifest(self) -> dict[str, Any]:
        """The whole endpoints manifest (terminal, profile, devices, control socket)."""
        return self.host.endpoints[self.terminal_id]

    @property
    def manifest_path(self) -> Path:
        """``STATE/ID/endpoints.json``."""
        return self.host.manifest_path(self.terminal_id)

    @property
    def endpoints(self) -> dict[str, dict[str, str]]:
        """Device name to its ports: ``kiosk.endpoints["printer"]["serial"]`` is a pty path,
        ``["tcp"]`` a ``host:port``."""
        devices: dict[str, dict[str, str]] = self.manifest["devices"]
        return devices

    @property
    def sim_time(self) -> float:
        """Simulated seconds since the start of the environment."""
        return self.call(lambda: float(self.terminal.env.now))

    def inject(self, fault_id: str) -> None:
        """Raise a catalog fault now (it stays until cleared)."""
        self.call(self.terminal.inject, fault_id)

    def clear(self, fault_id: str) -> None:
        """Clear a fault now."""
        self.call(self.terminal.clear, fault_id)

    def faults(self) -> list[str]:
        """The ids of the faults active now."""
        return self.call(self.terminal.active_faults)

    def act(self, action: str, *args: object, device: str | None = None) -> str:
        """A customer or staff stimulus (``act("insert-note", 20)``); returns the device's message."""
        return self.call(lambda: self.terminal.act(action, *map(str, args), device=device))

    def receipts(self) -> list[str]:
        """Every receipt cut so far, as text with placeholders (``[BARCODE EAN13 ...]``)."""

        def read() -> list[str]:
            printer = self.terminal.devices.get("printer")
            return list(getattr(printer, "receipts", []))

        return self.call(read)

    def credits(self) -> list[int]:
        """The face values of the notes the validator credited so far, in order."""

        def read() -> list[int]:
            validator = self.terminal.devices.get("bill_validator")
            if validator is None:
                return []
            values: list[int] = validator.settings.denominations
            out = []
            for _, text in validator.log:
                kind, _, rest = text.partition(" ")
                if kind == "credit":
                    channel = int(rest.partition("channel=")[2].split()[0])
                    out.append(values[channel - 1])
            return out

        return self.call(read)

    def events(self, device: str) -> list[tuple[float, str]]:
        """A device's recent log: ``(sim_time, "kind k=v ...")``."""
        self._check_device(device)
        return self.call(lambda: list(self.terminal.devices[device].log))

    def status(self) -> dict[str, Any]:
        """Every device's snapshot."""
        return self.call(self.terminal.status)

    def advance(self, seconds: float) -> None:
        """Move simulated time ahead by ``seconds`` at once (paper wears, customers come,
        the scenario's timeline plays), then carry on at the usual speed."""
        self.run(lambda: self.host.clock.advance(seconds))

    def findings(self) -> list[str]:
        """Protocol misbehaviour the devices noticed (an ESC/POS command the printer does not
        know...): one line each. With ``strict``, the plugin fails a test that leaves any."""

        def read() -> list[str]:
            out = []
            recorder = self.host.recorders.get(self.terminal_id)
            if recorder is not None:
                from scenarios.transcript import findings, read

                recorder.flush()
                out += findings(read(recorder.path)[1])
            for name, device in self.terminal.devices.items():
                for t, text in device.log:
                    kind = text.partition(" ")[0]
                    if kind in FINDING_KINDS:
                        out.append(f"{name} at {t:.3f} s: {text}")
                    elif text in HOST_FAULTS:
                        out.append(f"{name} at {t:.3f} s: {HOST_FAULTS[text]}")
            return out

        return self.call(read)

    def check_transcript(self, golden: str | Path) -> None:
        """Fail (AssertionError) when what the kiosk software sent so far differs from the golden
        transcript; the message names the first divergence, decoded by the device's codec."""
        from scenarios.transcript import first_divergence, read

        recorder = self.host.recorders.get(self.terminal_id)
        if recorder is None:
            raise DeviceError(
                "this kiosk records no transcript: mark the test @pytest.mark.kiosk(record=True) "
                "(or record='new.jsonl'; SimulatedKiosk(record=...) outside pytest)"
            )
        self.call(recorder.flush)
        divergence = first_divergence(read(golden)[1], read(recorder.path)[1])
        if divergence is not None:
            raise AssertionError(divergence.describe())


FINDING_KINDS = frozenset(
    {"unknown_command", "unsupported_command", "bad_frame", "protocol_violation"}
)
"""Device log kinds that are findings about the client (strict mode reports them)."""

HOST_FAULTS = {
    "rejecting reason=ESCROW_TIMEOUT": (
        "a note went back to the customer: the host did not poll within the escrow time"
    ),
}
"""Device log lines that say the host misbehaved, and what it did."""


__all__ = ["SimulatedKiosk", "WorkbenchError"]
