"""``python -m workbench.capacity``: the capacity commands on their own, with one-line errors."""

from __future__ import annotations

from workbench.capacity.cli import capacity
from workbench.console import run_cli


def main() -> None:
    """Run the ``capacity`` group; a user's mistake is one line and a non-zero exit."""
    run_cli(capacity, label="capacity", prog_name="python -m workbench.capacity")


if __name__ == "__main__":
    main()
