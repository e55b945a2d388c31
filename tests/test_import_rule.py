"""The import rule (docs/architecture.md), checked on the source and in fresh interpreters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "workbench": set(),
    "devices": {"workbench"},
    "remote": {"workbench", "devices"},
    "scenarios": {"workbench", "devices", "remote"},
    "tui": {"workbench", "devices", "remote", "scenarios"},
}
ONLY_IN = {"textual": "tui", "asyncssh": "remote"}
COMPOSITION_ROOT = {ROOT / "workbench" / "cli.py"}
"""The command line (the adapter that serves a simulated kiosk through the remote agent is
``scenarios/wiring.py``, where the rule lets it import both ``devices`` and ``remote``)."""


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_packages_import_only_downward() -> None:
    problems = []
    for pkg, ok in ALLOWED.items():
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path in COMPOSITION_ROOT:
                continue  # imports upward, lazily
            for line, name in _imports(path):
                root = name.split(".")[0]
                if root in ALLOWED and root not in (pkg, *ok):
                    problems.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
                if root in ONLY_IN and ONLY_IN[root] != pkg:
                    problems.append(f"{path.relative_to(ROOT)}:{line} imports {root}")
    assert problems == []


def test_remote_never_imports_the_simulators() -> None:
    codecs_and_ports = ("devices.protocols", "devices.transports")
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / "remote").rglob("*.py"))
        for line, name in _imports(path)
        if name.startswith("devices") and not name.startswith(codecs_and_ports)
    ]
    assert problems == []


@pytest.mark.parametrize(
    "module", ["workbench.cli", "devices.kiosk", "remote.agent", "scenarios.demo"]
)
def test_headless_packages_import_without_textual(module: str) -> None:
    code = (
        "import sys; sys.modules['textual'] = None\n"
        f"import {module}\n"
        "assert 'textual' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_kernel_imports_nothing_above_it() -> None:
    code = (
        "import sys, workbench.clock, workbench.store, workbench.faults, workbench.sla, workbench.capacity\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('devices', 'remote', 'scenarios', 'tui')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


SIMULATOR_FREE = (
    "import importlib, pkgutil, sys\n"
    "import remote\n"
    "names = [m.name for m in pkgutil.walk_packages(remote.__path__, 'remote.')]\n"
    "for name in names:\n"
    "    importlib.import_module(name)\n"
    "ok = ('devices', 'devices.transports', 'devices.transports.control_client')\n"
    "loaded = [m for m in sys.modules if sys.modules[m] is not None]\n"
    "bad = [m for m in loaded if m == 'simpy' or m.startswith('simpy.') or (\n"
    "    m.startswith('devices') and m not in ok and not m.startswith('devices.protocols'))]\n"
    "assert len(names) > 20, names\n"
    "assert not bad, bad\n"
)


def test_every_remote_module_imports_without_the_simulators() -> None:
    """A real terminal's agent needs no simulator: importing every module of ``remote`` loads no
    simpy, no device model, no pty or TCP port server and no wire-fault layer (only the codecs and
    the control-plane client)."""
    done = subprocess.run(
        [sys.executable, "-c", SIMULATOR_FREE], cwd=ROOT, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_remote_imports_with_simpy_missing() -> None:
    """The same with simpy made unimportable, as on a terminal that never installed it."""
    code = "import sys; sys.modules['simpy'] = None\n" + SIMULATOR_FREE
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_headless_module_imports_without_textual() -> None:
    """Every module of workbench, devices, remote and scenarios, and the TUI's backend layer
    (interface, filter, live backend), import with textual made unimportable."""
    code = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['textual'] = None\n"
        "for pkg in ('workbench', 'devices', 'remote', 'scenarios'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "for name in ('tui.backend', 'tui.filtering', 'tui.live'):\n"
        "    importlib.import_module(name)\n"
        "assert 'textual' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


WITHOUT_TEXTUAL = (
    "import sys; sys.modules['textual'] = None\n"
    "from workbench.cli import main\n"
    "main(sys.argv[1:])\n"
)
"""``workbench ARGS`` in an interpreter where textual cannot be imported (the ``tui`` extra not
installed)."""


def _workbench_without_textual(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TEXTUAL, *args],
        cwd=ROOT,
        timeout=60,
        capture_output=True,
        text=True,
    )


def test_the_tui_without_textual_names_the_extra(tmp_path: Path) -> None:
    """Textual is the ``tui`` extra: without it ``workbench tui`` says so in one line and exits
    non-zero, while the top-level help still lists the command."""
    done = _workbench_without_textual("tui", "--state-dir", str(tmp_path), "--ticket", "INC-1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "kiosk-workbench[tui]" in done.stderr
    assert done.stderr.startswith("workbench: error: the TUI needs textual")

    listed = _workbench_without_textual("--help")
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:1] == ["tui"] for line in listed.stdout.splitlines()), listed.stdout
    assert _workbench_without_textual("tui", "--help").returncode == 0
