"""The agent's command language: what an SSH exec request may ask, which certificate group each
command needs, and how each one streams JSON lines from the backend.

Every output line is one JSON object with an ``event`` key. Exit statuses: 0 done, 1 a
diagnostic failed or could not be carried out (``error``), or a remedy did not clear, 2 unknown command or bad arguments
(a test, remedy or fault id the terminal does not know included), 3 refused by the window
(group not granted, or fault injection on a real terminal), 4 the backend could not do it.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from remote.backend import Backend
from workbench.errors import CatalogError, ConfigError, WorkbenchError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_BACKEND = 0, 1, 2, 3, 4

Emit = Callable[[dict[str, Any]], Awaitable[None]]

USAGE = {
    "status": "status",
    "diag": "diag list | diag run SUITE|TEST...",
    "logs": "logs [--since UNIX_TIME]",
    "remedy": "remedy ACTION",
    "fault": "fault list | fault inject ID | fault clear ID",
    "window": "window",
    "help": "help",
}
GROUP_OF = {
    "status": "diag",
    "diag": "diag",
    "logs": "diag",
    "remedy": "remedy",
    "fault": "trainer",
}
"""The certificate group each command needs; ``window`` and ``help`` need only a valid cert."""


class UsageError(Exception):
    """The command line is not one the agent knows (exit 2)."""


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed exec request."""

    name: str
    args: tuple[str, ...]
    group: str | None
    text: str


@dataclass(slots=True)
class Outcome:
    """What a command did, for the audit log's ``result`` line."""

    exit_status: int = EXIT_OK
    counts: dict[str, int] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def parse(text: str) -> Command:
    """Split an exec request into a :class:`Command`; raise :class:`UsageError` when malformed."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot parse command: {exc}") from None
    if not argv:
        raise UsageError("empty command; commands: " + ", ".join(USAGE))
    name, args = argv[0], tuple(argv[1:])
    if name not in USAGE:
        raise UsageError(f"unknown command {name!r}; commands: {', '.join(USAGE)}")
    ok = {
        "status": not args,
        "window": not args,
        "help": not args,
        "diag": bool(args)
        and ((args[0] == "list" and len(args) == 1) or (args[0] == "run" and len(args) > 1)),
        "logs": not args or (len(args) == 2 and args[0] == "--since" and _is_number(args[1])),
        "remedy": len(args) == 1,
        "fault": bool(args)
        and (
            (args[0] == "list" and len(args) == 1)
            or (args[0] in ("inject", "clear") and len(args) == 2)
        ),
    }[name]
    if not ok:
        raise UsageError(f"usage: {USAGE[name]}")
    return Command(name, args, GROUP_OF.get(name), text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def execute(cmd: Command, backend: Backend, emit: Emit, window: dict[str, Any]) -> Outcome:
    """Run a parsed command that the window allows, streaming its lines through ``emit``.

    Backend errors (:class:`WorkbenchError`) become an ``error`` line and exit 4; a name the
    backend does not know (a test, remedy or fault id: :class:`ConfigError`,
    :class:`CatalogError`) is a bad argument, exit 2.
    """
    out = Outcome()
    try:
        await _dispatch(cmd, backend, emit, window, out)
    except WorkbenchError as exc:
        bad_argument = isinstance(exc, ConfigError | CatalogError)
        code = "usage" if bad_argument else "backend"
        out.exit_status, out.error = (EXIT_USAGE if bad_argument else EXIT_BACKEND), str(exc)
        await emit({"event": "error", "code": code, "error": str(exc), "kind": type(exc).__name__})
    return out


async def _dispatch(
    cmd: Command, backend: Backend, emit: Emit, window: dict[str, Any], out: Outcome
) -> None:
    name, args = cmd.name, cmd.args
    trainer = "trainer" in window.get("allow", ())  # only a trainer sees the answer key
    if name == "help":
        for command, usage in USAGE.items():
            await emit(
                {
                    "event": "help",
                    "command": command,
                    "usage": usage,
                    "group": GROUP_OF.get(command),
                }
            )
    elif name == "window":
        await emit({"event": "window", **window})
    elif name == "status":
        await emit({"event": "status", **(await backend.status(trainer=trainer))})
    elif name == "logs":
        since = float(args[1]) if args else None
        for entry in backend.logs(since, trainer=trainer):
            await emit({"event": "log", **entry})
    elif name == "diag" and args[0] == "list":
        for item in backend.diag_list():
            await emit({"event": "diag", **item})
    elif name == "diag":
        counts = {"pass": 0, "warn": 0, "fail": 0}
        async for result in backend.diag_run(list(args[1:])):
            if result.get("event") == "queued":  # its device is busy with another session
                await emit(result)
                continue
            status = str(result.get("status", "fail"))
            counts[status] = counts.get(status, 0) + 1
            out.results[str(result.get("test", "?"))] = status
            await emit({"event": "result", **result})
        out.counts = counts
        if counts.get("fail") or counts.get("error"):
            out.exit_status = EXIT_FAILED
        await emit({"event": "summary", **counts})
    elif name == "remedy":
        result = await backend.remedy(args[0])
        await emit({"event": "remedy", **result})
        if not result.get("cleared"):  # refused (needs a visit) or the re-test still fails
            out.exit_status = EXIT_FAILED
    elif name == "fault":
        if not backend.simulated:
            out.exit_status, out.error = (
                EXIT_REFUSED,
                "fault injection exists only on simulated terminals",
            )
            await emit({"event": "error", "code": "refused", "error": out.error})
        elif args[0] == "list":
            for item in backend.fault_list():
                await emit({"event": "fault", **item})
        elif args[0] == "inject":
            by = window.get("engineer")  # the certificate's key id: a scenario's log names them
            await emit({"event": "fault_injected", **backend.fault_inject(args[1], by=by)})
        else:
            by = window.get("engineer")
            await emit({"event": "fault_cleared", **backend.fault_clear(args[1], by=by)})
