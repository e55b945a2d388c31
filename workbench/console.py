"""The command line's output layer: where tables and messages go, and how wide they are.

On a terminal, rich sizes output to the window. Piped to a file or another program there is no
window, and rich would fall back to 80 columns, wrapping a wide table one word a line; here a
table piped anywhere is printed at its own natural width instead (``COLUMNS`` still wins when
set), so ``workbench ... > report.txt`` reads like the screen. :func:`run_cli` is where every
command line (``workbench``, ``python -m remote.cli``) turns a user's mistake into one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from workbench.errors import WorkbenchError


class Output(Console):
    """A rich console that never squeezes a table when nobody is looking at a window."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if (
            "width" not in kwargs
            and not self.is_terminal
            and "COLUMNS" not in os.environ
            and len(objects) == 1
            and isinstance(objects[0], Table)
        ):
            natural = Measurement.get(self, self.options.update(width=10_000), objects[0])
            if natural.maximum > self.width:
                # the width as set (None: the window's, or COLUMNS, asked at each print); setting
                # back the width read would pin it for every print after (80 once piped)
                saved = self._width
                self.width = natural.maximum
                try:
                    super().print(*objects, **kwargs)
                finally:
                    self._width = saved
                return
        super().print(*objects, **kwargs)


out = Output(highlight=False, soft_wrap=True)
"""Standard output: results and tables."""

err = Output(stderr=True, highlight=False, soft_wrap=True)
"""Standard error: one-line errors and progress."""


def run_cli(
    command: click.Command,
    *,
    label: str = "workbench",
    prog_name: str | None = None,
    argv: list[str] | None = None,
) -> NoReturn:
    """Run a command line; every user mistake ends in one line on stderr (``LABEL: error: ...``,
    words like ``:b:`` kept as typed, not turned into emoji) and a non-zero exit: the error's
    own code, 2 for a usage error, 130 when interrupted."""
    prefix = f"{label}: " if label else ""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except WorkbenchError as exc:
        err.print(f"{prefix}error: {exc}", markup=False, soft_wrap=True, emoji=False)
        sys.exit(exc.exit_code)
    except click.exceptions.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx else ""
        err.print(
            f"{prefix}error: {exc.format_message()}{hint}",
            markup=False,
            soft_wrap=True,
            emoji=False,
        )
        sys.exit(2)
    except click.exceptions.Abort:
        err.print(f"{prefix}aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.filename is not None and exc.errno in _PATH_REFUSED:
            # a directory the user named that cannot be made or entered ('--state-dir
            # /proc/x', a path through a file, no permission): one line naming it
            err.print(f"{prefix}error: {exc.filename}: {exc.strerror}", markup=False)
            sys.exit(1)
        if exc.errno not in _CANNOT_WRITE:
            raise
        # the disk is full, or the output's device failed: `plan export > plan.yaml` on a full
        # disk ended in a traceback; say it in one line, and make the exit's flush of what is
        # still buffered for stdout say nothing more
        where = exc.filename or "the output"
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open until the exit)
        err.print(f"{prefix}error: cannot write {where}: {exc.strerror}", markup=False)
        sys.exit(1)
    sys.exit(0)


_CANNOT_WRITE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}
"""Write errors that are the machine's, not a bug's: said in one line, exit 1."""
_PATH_REFUSED = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EROFS}
"""Errors of a named path (made, opened or entered): said with the path, exit 1."""
