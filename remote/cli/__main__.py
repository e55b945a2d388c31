"""``python -m remote.cli``: the remote commands without the rest of ``workbench``."""

from __future__ import annotations

from remote.cli import main

if __name__ == "__main__":
    main()
