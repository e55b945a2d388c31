"""``python -m workbench.capacity``: the capacity commands on their own, with one-line errors."""

from __future__ import annotations

import sys

import click

from workbench.capacity.cli import capacity
from workbench.errors import WorkbenchError


def main() -> None:
    """Run the ``capacity`` group; a workbench error becomes one line and its exit code."""
    try:
        capacity.main(standalone_mode=False, obj={})
    except WorkbenchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)


if __name__ == "__main__":
    main()
