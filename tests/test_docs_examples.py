"""The README's and docs' command lines, checked against the command line they document.

Every ``workbench ...`` line in a ``console`` block of the README or ``docs/`` must name a
command that exists and only options that command takes, so that a renamed flag or command
fails here instead of in a new user's shell. Each command path shown also answers ``--help``
(which imports its lazily loaded module).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from workbench.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
SHELL = {"", "console", "bash", "sh", "shell"}
"""Fenced blocks that hold command lines (a bare fence only where a line starts with ``$``)."""
STOP = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&", "<"}


def _console_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, command)`` for each command in the file's ``console`` blocks."""
    found: list[tuple[int, str]] = []
    lang = None
    pending = ""
    start = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line.strip())
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang not in SHELL:
            continue
        text = line.strip()
        if pending:
            pending += " " + text.rstrip("\\").strip()
        elif text.startswith("$ "):
            pending, start = text[2:].rstrip("\\").strip(), number
        elif lang and text.startswith(("workbench ", ".venv/bin/workbench ", "python3 -m venv")):
            pending, start = text.rstrip("\\").strip(), number
        else:
            continue
        if not text.endswith("\\"):
            found.append((start, pending))
            pending = ""
    return found


def _workbench_invocations(command: str) -> list[list[str]]:
    """The argument lists of every ``workbench`` call in one shell command line."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return []
    calls: list[list[str]] = []
    current: list[str] | None = None
    for word in words:
        if word in STOP or word.startswith((">", "2>")):
            if current is not None:
                calls.append(current)
            current = None
        elif current is not None:
            current.append(word)
        elif word == "workbench" or word.endswith("/bin/workbench"):
            current = []
        elif word == "workbench.capacity" and words[words.index(word) - 1] == "-m":
            current = ["capacity"]
    if current is not None:
        calls.append(current)
    return calls


EXAMPLES = [
    pytest.param(args, id=f"{path.relative_to(ROOT)}:{number}")
    for path in DOCS
    for number, line in _console_lines(path)
    for args in _workbench_invocations(line)
]


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {o: p for p in command.params for o in (*p.opts, *p.secondary_opts)}


def _resolve(args: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """Walk the groups: the command path, the command, and the arguments left for it."""
    ctx = click.Context(cli, info_name="workbench")
    command: click.Command = cli
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and rest[0] != "--help":
        if rest[0].startswith("-"):  # the group's own options come before its subcommand
            option = _options(command).get(rest[0].split("=", 1)[0])
            assert option is not None, f"workbench {' '.join(path)} takes no option {rest[0]}"
            flag = isinstance(option, click.Option) and option.is_flag
            del rest[: 1 if flag or "=" in rest[0] else 2]
            continue
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            raise AssertionError(f"no command {' '.join([*path, rest[0]])!r}")
        path.append(rest.pop(0))
        command = sub
        ctx = click.Context(command, parent=ctx, info_name=path[-1])
    return path, command, rest


def test_the_docs_show_commands() -> None:
    assert len(EXAMPLES) > 20, "the README and docs lost their command examples"


@pytest.mark.parametrize("args", EXAMPLES)
def test_documented_command_parses(args: list[str]) -> None:
    path, command, rest = _resolve(args)
    if isinstance(command, click.Group):
        assert not rest or rest == ["--help"], f"workbench {' '.join(path)} needs a subcommand"
        return
    known = {"--help", *_options(command)}
    passthrough = command.context_settings.get("ignore_unknown_options", False)
    for word in rest:
        if word == "--":
            break
        if not word.startswith("-") or re.match(r"-\d", word) or passthrough:
            continue
        name = word.split("=", 1)[0]
        assert name in known, (
            f"workbench {' '.join(args)}: no option {name} (it takes {', '.join(sorted(known))})"
        )


def _path_or_none(args: list[str]) -> tuple[str, ...] | None:
    try:
        return tuple(_resolve(args)[0])
    except AssertionError:
        return None  # reported by test_documented_command_parses


COMMAND_PATHS = sorted({p for e in EXAMPLES if (p := _path_or_none(e.values[0])) is not None})


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_documented_command_has_help(path: tuple[str, ...]) -> None:
    done = CliRunner().invoke(cli, [*path, "--help"], prog_name="workbench")
    assert done.exit_code == 0, done.output
    assert "Usage:" in done.output


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = re.search(r'pip install[^\n&]*"\.\[test\]"', readme)
    assert install, "the README lost its test command"
    assert install.group(0).replace(" -q", "") in ci.replace(" -q", "")


def test_readme_install_gives_a_working_tui() -> None:
    """Textual is the ``tui`` extra: the README's install command asks for it and the test extra
    includes it, so both of the README's commands give a working ``workbench tui``."""
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert re.search(r'pip install -e "\.\[tui\]" && \.venv/bin/workbench demo', readme)
    assert any(d.startswith("textual==") for d in extras["tui"])
    assert "kiosk-workbench[tui]" in extras["test"]


OUTSIDE = re.compile(
    r"\b(PERFORMANCE|SERVICE_PLAN|DESIGN|STYLE|PROTOCOLS)\.md\b|\.\./shared|\bthe brief\b"
)


def test_the_repository_stands_alone() -> None:
    """Nothing cites documents that live outside the repository; docs/ holds what is needed."""
    tracked = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, timeout=30, check=True
    ).stdout.split()
    cites = []
    for name in tracked:
        path = ROOT / name
        if name == "tests/test_docs_examples.py" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        cites += [
            f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)
        ]
    assert cites == []
