"""What the scenario, class and kiosk command lines share: where the output goes, the state
directory option (``--state-dir``, env ``WORKBENCH_STATE_DIR``) and running a server command until
SIGINT or SIGTERM. Errors are raised as :class:`workbench.errors.WorkbenchError` and turned into
one line by the workbench CLI."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from workbench.console import err, out

__all__ = ["default_state_dir", "err", "out", "serve", "state_dir_hint", "state_dir_option"]


def default_state_dir() -> Path:
    """``WORKBENCH_STATE_DIR`` when set, else the platform's state directory."""
    env = os.environ.get("WORKBENCH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("kiosk-workbench"))


def state_dir_hint(state: Path) -> str:
    """The option a command printed as a hint needs to find this state dir: `` --state-dir
    STATE`` unless it is the default one (where the command looks on its own)."""
    return "" if state == default_state_dir() else f" --state-dir {shlex.quote(str(state))}"


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the kiosks keep endpoints, control sockets and records (env WORKBENCH_STATE_DIR).",
)
"""``--state-dir``; the command gets ``None`` when not given (then :func:`default_state_dir`)."""


def serve(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` until SIGINT or SIGTERM sets ``stop``."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(run())
