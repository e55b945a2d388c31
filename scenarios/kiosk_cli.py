"""``workbench kiosk ...``: run simulated kiosks (``up``, with their SSH agents and the trainer's
scenario stage) and drive a running one through its control socket (``status``, ``fault``,
``act``, ``wire``). It lives in ``scenarios`` because ``kiosk up`` joins the devices, the remote
agent and the scenario stage, which the import rule lets only ``scenarios`` do."""

from __future__ import annotations

import asyncio
import getpass
import json
import shlex
import signal
from pathlib import Path
from typing import Any

import click
import platformdirs
from rich.table import Table

from workbench.console import out

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(platformdirs.user_state_dir("kiosk-workbench")),
    show_default=True,
    envvar="WORKBENCH_STATE_DIR",
    help="Where running kiosks keep endpoints, control sockets and records "
    "(env WORKBENCH_STATE_DIR).",
)


def control_path(state_dir: Path, terminal_id: str) -> Path:
    """``STATE/ID/control.sock``, the running kiosk's control socket."""
    from workbench.ids import check_terminal_id

    return state_dir / check_terminal_id(terminal_id) / "control.sock"


@click.group()
def kiosk() -> None:
    """Run simulated kiosks and drive them (faults, customer stimuli)."""


@kiosk.command("up")
@click.option(
    "--profile", default="bill_payment", show_default=True, help="Profile name or YAML path."
)
@click.option(
    "--id",
    "terminal_id",
    default="KSK-0001",
    show_default=True,
    help="Terminal id (prefix with --count).",
)
@click.option(
    "--count",
    default=1,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Terminals in this process.",
)
@state_dir_option
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=float,
    help="Simulated seconds per wall second (wear, faults, customers); host-facing "
    "time-outs such as the validator's escrow stay in wall seconds.",
)
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Random seed (wear, MTBF draws)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address TCP ports listen on.")
@click.option(
    "--ca",
    type=click.Path(file_okay=False, path_type=Path),
    help="Support CA directory: give each kiosk a host certificate and an SSH agent.",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record the wire transcript (stream devices' bytes, Modbus and HTTP requests) to this JSON-lines file.",
)
def kiosk_up(
    profile: str,
    terminal_id: str,
    count: int,
    state_dir: Path,
    speed: float,
    seed: int,
    host: str,
    ca: Path | None,
    record: Path | None,
) -> None:
    """Start simulated kiosks and run until SIGINT/SIGTERM."""
    from devices.kiosk import KioskHost, terminal_ids
    from scenarios.stage import stage_extra

    # the agent first (a scenario's run record names its CA), then the trainer's scenarios
    extras = [_agent_extra(ca, host)] if ca is not None else []
    extras.append(stage_extra(ca))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        ids = terminal_ids(terminal_id, count)
        async with KioskHost(
            state_dir,
            profile,
            ids,
            speed=speed,
            seed=seed,
            host=host,
            extras=extras,
            transcript=record,
            freeze_gc=True,  # a long-running host: workbench/gc_freeze.py
        ) as host_:
            _print_endpoints(host_.endpoints)
            out.print(
                ready_line(ids, speed, state_dir), markup=False, highlight=False, soft_wrap=True
            )
            await stop.wait()
        out.print("stopped cleanly")

    asyncio.run(run())


def ready_line(ids: list[str], speed: float, state_dir: Path) -> str:
    """The line ``kiosk up`` prints once every port is bound (scripts wait for ``kiosk(s) up``),
    with what to do next: the command that plays a training scenario on the kiosk, with the
    options it needs here (``--state-dir`` unless the default, ``--id`` when there are several)."""
    from scenarios.cli_common import default_state_dir

    options = ""
    if state_dir != default_state_dir():
        options += f" --state-dir {shlex.quote(str(state_dir))}"
    if len(ids) > 1:
        options += f" --id {ids[0]}"
    on = "it" if len(ids) == 1 else "one"
    return (
        f"{len(ids)} kiosk(s) up at speed {speed:g}; Ctrl-C to stop; "
        f"to play a scenario on {on}: workbench scenario start NAME{options}"
    )


def _agent_extra(ca: Path, host: str) -> Any:
    """The SSH agent of each simulated kiosk, answering with diagnostics over its real ports."""
    from remote.window import CertificateAuthority
    from scenarios.wiring import kiosk_backend, kiosk_extra

    CertificateAuthority(ca)  # a clear error now if CA is not a CA directory
    return kiosk_extra(ca, kiosk_backend, host=host)


def _print_endpoints(endpoints: dict[str, dict[str, Any]], limit: int = 10) -> None:
    table = Table(title="endpoints")
    table.add_column("terminal")
    table.add_column("device")
    table.add_column("endpoints")
    for tid, manifest in list(endpoints.items())[:limit]:
        for device, ends in manifest["devices"].items():
            table.add_row(tid, device, "  ".join(f"{k}={v}" for k, v in ends.items()))
        if "agent" in manifest:
            table.add_row(tid, "agent (ssh)", manifest["agent"])
    out.print(table)
    if len(endpoints) > limit:
        out.print(f"... and {len(endpoints) - limit} more terminals")


id_option = click.option(
    "--id", "terminal_id", default="KSK-0001", show_default=True, help="Terminal id."
)


@kiosk.command("status")
@state_dir_option
@id_option
def kiosk_status(state_dir: Path, terminal_id: str) -> None:
    """Show a running kiosk's devices and active faults (JSON)."""
    from devices.transports.control_client import request

    out.print_json(json.dumps(request(control_path(state_dir, terminal_id), "status")))


@kiosk.command("fault")
@click.argument("verb", type=click.Choice(["list", "inject", "clear"]))
@click.argument("fault_id", required=False)
@state_dir_option
@id_option
def kiosk_fault(verb: str, fault_id: str | None, state_dir: Path, terminal_id: str) -> None:
    """List, inject or clear faults on a running kiosk."""
    from devices.transports.control_client import request

    path = control_path(state_dir, terminal_id)
    if verb == "list":
        rows = request(path, "fault.list")
        table = Table(title=f"{terminal_id} faults")
        for col in ("id", "sev", "active", "title"):
            table.add_column(col)
        for row in rows:
            table.add_row(
                row["id"], row["severity"], "ACTIVE" if row["active"] else "", row["title"]
            )
        out.print(table)
        return
    if not fault_id:
        raise click.UsageError(
            f"'kiosk fault {verb}' needs a FAULT_ID (see 'workbench kiosk fault list')"
        )
    was = verb != "clear" or any(
        row["id"] == fault_id and row["active"] for row in request(path, "fault.list")
    )
    by = f"{getpass.getuser()}@workbench"  # as the TUI names its user: a playing scenario's log
    result = request(path, f"fault.{verb}", id=fault_id, by=by)
    done = f"{verb}ed {fault_id}" if was else f"{fault_id} was not active"  # not "cleared"
    out.print(f"{terminal_id}: {done}; active now: {', '.join(result['active']) or 'none'}")


class ActCommand(click.Command):
    """``kiosk act``, whose help lists every action the device models declare."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from devices.registry import KINDS

        for kind in KINDS.values():
            rows = [
                (f"{a.name} {a.args}".strip(), a.help) for a in kind.device_class.describe_actions()
            ]
            if rows:
                with formatter.section(f"Actions of the {kind.name} (--device {kind.name})"):
                    formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@kiosk.command("act", cls=ActCommand, context_settings={"ignore_unknown_options": True})
@click.argument("action")
@click.argument("args", nargs=-1)
@click.option("--device", help="The device, when more than one knows the action.")
@state_dir_option
@id_option
def kiosk_act(
    action: str, args: tuple[str, ...], device: str | None, state_dir: Path, terminal_id: str
) -> None:
    """Customer and staff stimuli: insert-note 20, remove-cashbox, refill-paper, touch X Y..."""
    from devices.transports.control_client import request

    result = request(
        control_path(state_dir, terminal_id), "act", action=action, args=list(args), device=device
    )
    out.print(f"{terminal_id}: {result['message']}")


@kiosk.command("wire")
@click.argument("verb", type=click.Choice(["list", "add", "remove"]))
@click.argument("device", required=False)
@click.argument("toxic", required=False)
@click.option(
    "--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="Toxic attribute, e.g. latency=500."
)
@click.option(
    "--stream",
    type=click.Choice(["upstream", "downstream"]),
    default="downstream",
    show_default=True,
)
@click.option("--toxicity", type=click.FloatRange(0, 1), default=1.0, show_default=True)
@click.option("--name", help="Toxic name (default TYPE_STREAM).")
@state_dir_option
@id_option
def kiosk_wire(
    verb: str,
    device: str | None,
    toxic: str | None,
    attrs: tuple[str, ...],
    stream: str,
    toxicity: float,
    name: str | None,
    state_dir: Path,
    terminal_id: str,
) -> None:
    """Wire faults (toxiproxy toxics): 'wire add printer latency --attr latency=500', 'wire remove printer'."""
    from devices.transports.control_client import request

    path = control_path(state_dir, terminal_id)
    if verb == "list":
        out.print_json(json.dumps(request(path, "wire.list")))
        return
    if not device:
        raise click.UsageError(f"'kiosk wire {verb}' needs a DEVICE")
    if verb == "remove":
        request(path, "wire.remove", device=device, name=toxic or name)
        out.print(f"{terminal_id}: removed {toxic or name or 'all toxics'} from {device}")
        return
    if not toxic:
        raise click.UsageError(
            "'kiosk wire add' needs DEVICE and a TOXIC type (latency, timeout, drop...)"
        )
    attributes = {}
    for item in attrs:
        key, sep, value = item.partition("=")
        try:
            attributes[key] = float(value) if sep else float("nan")
        except ValueError:
            raise click.BadParameter(f"{item!r} must be KEY=NUMBER", param_hint="--attr") from None
        if not sep:
            raise click.BadParameter(f"{item!r} must be KEY=NUMBER", param_hint="--attr")
    fields: dict[str, Any] = {"stream": stream, "toxicity": toxicity, "attributes": attributes}
    if name:
        fields["name"] = name
    added = request(path, "wire.add", device=device, type=toxic, **fields)
    out.print(
        f"{terminal_id}: {device} toxic {added['name']} {added['type']} {added['attributes']}"
    )
