"""``workbench agent --config FILE``: serve a terminal's SSH agent until SIGINT/SIGTERM, with the
built-in backend over the devices the config names or a backend factory of its own."""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
from pathlib import Path
from typing import Any

import click

from workbench.errors import ConfigError, WorkbenchError


@click.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
def agent(config_path: Path) -> None:
    """Run this terminal's SSH agent until SIGINT/SIGTERM (prints its address as a JSON line)."""
    from remote.agent import Agent, AgentConfig
    from workbench.config import load_yaml

    config = load_yaml(config_path, AgentConfig)
    backend = _load_backend(config, config_path)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Agent(config, backend) as running:
            print(json.dumps({"terminal": config.terminal, "agent": running.address}), flush=True)
            await stop.wait()

    asyncio.run(serve())


def _load_backend(config: Any, source: Path) -> Any:
    """Build the terminal's backend: the built-in one over its ``devices`` map, or the one the
    config names as ``module:callable``; anything that is not a callable giving a
    :class:`remote.backend.Backend` is a one-line config error."""
    from remote.backend import Backend

    if config.backend and config.devices:
        raise ConfigError(f"{source}: give devices (the built-in backend) or backend, not both")
    if config.devices:
        from remote.real_terminal import check_devices, real_terminal_backend

        return real_terminal_backend(config.terminal, check_devices(config.devices, str(source)))
    if not config.backend:
        raise ConfigError(
            f"{source}: devices: name this terminal's devices and their ports "
            "(or backend: module:callable for a backend of your own)"
        )
    where = f"{source}: backend(={config.backend!r})"
    module, sep, attr = config.backend.partition(":")
    if not sep or not module or not attr.isidentifier():
        raise ConfigError(f"{where} must be module:callable")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{where} cannot be imported: {exc}") from None
    if not callable(factory) or isinstance(factory, type(print)):
        # a builtin (os:system, builtins:exec...) is never a backend factory: refuse it
        # before calling it with the config
        raise ConfigError(f"{where} is not a backend factory (a Python function or class)")
    try:
        backend = factory(config)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise ConfigError(f"{where} failed to build a backend: {exc}") from None
    if not isinstance(backend, Backend):
        raise ConfigError(f"{where} returned {type(backend).__name__}, not an agent backend")
    return backend
