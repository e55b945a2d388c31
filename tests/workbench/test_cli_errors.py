"""The root CLI's one-line error, printed as the user typed the value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main


def test_an_error_line_keeps_colon_words_instead_of_turning_them_into_emoji() -> None:
    # rich replaced ':b:' in "engineers=a:b:c" with an emoji in the error line
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "capacity", "sweep", "--vary", "engineers=a:b:c"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("workbench: error: --vary 'engineers=a:b:c': expected")


def test_python_m_remote_cli_errors_are_the_same_one_line(tmp_path: Path) -> None:
    """``python -m remote.cli`` turns errors into one line the same way (it printed ':b:' as an
    emoji, and a usage error as click's several lines)."""

    def remote(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "remote.cli", "remote", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "COLUMNS": "200"},
        )

    missing = remote("audit", "verify", "a:b:c.jsonl")
    assert (missing.returncode, missing.stderr) == (2, "error: a:b:c.jsonl: no such file\n")
    usage = remote("run", "--bogus")
    assert usage.returncode == 2
    assert usage.stderr.count("\n") == 1 and usage.stderr.startswith("error: No such option")
    assert usage.stderr.endswith("--bogus'. (try 'python -m remote.cli remote run --help')\n")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI in-process; (exit code, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("verb", [["status"], ["fault", "list"], ["wire", "list"]])
def test_client_commands_refuse_an_id_that_is_a_path(
    verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --id ../k1/KSK-0001 reached another state dir's control socket
    (tmp_path / "k1" / "KSK-0001").mkdir(parents=True)
    code, err = _run(
        ["kiosk", *verb, "--state-dir", str(tmp_path / "k2"), "--id", "../k1/KSK-0001"], capsys
    )
    assert code == 2
    assert err.startswith("workbench: error: terminal id(='../k1/KSK-0001') must be")
    assert len(err.strip().splitlines()) == 1


def test_kiosk_up_refuses_an_id_with_a_trailing_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(["kiosk", "up", "--state-dir", str(tmp_path), "--id", "KSK-0001\n"], capsys)
    assert code == 2
    assert err.startswith("workbench: error: terminal id(='KSK-0001\\n') must be")
    assert not list(tmp_path.iterdir())


def _agent_config(tmp_path: Path, **overrides: str) -> Path:
    from remote.window import CertificateAuthority, issue_host_identity

    ca = CertificateAuthority.init(tmp_path / "ca")
    key, cert = issue_host_identity(ca.dir, "KSK-0001", tmp_path / "ssh")
    fields = {
        "terminal": "KSK-0001",
        "user_ca": str(ca.dir / "user_ca.pub"),
        "host_key": str(key),
        "host_cert": str(cert),
        "state_dir": str(tmp_path / "agent"),
        "backend": "static_backend:make_backend",
        **overrides,
    }
    path = tmp_path / "agent.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in fields.items()))
    return path


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"port": "99999"}, ":7: port: Input should be less than or equal to 65535"),
        ({"terminal": '"KSK-0001\\n"'}, ":1: terminal: terminal id(='KSK-0001\\n') must be"),
        ({"max_window_hours": ".nan"}, ":7: max_window_hours: Input should be a finite number"),
        ({"backend": "os:system"}, ": backend(='os:system') is not a backend factory"),
        ({"backend": "json:dumps"}, ": backend(='json:dumps') failed to build a backend"),
        ({"backend": "static_backend"}, ": backend(='static_backend') must be module:callable"),
    ],
)
def test_agent_config_mistakes_are_one_line(
    override: dict[str, str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "remote"))
    path = _agent_config(tmp_path, **override)
    code, err = _run(["agent", "--config", str(path)], capsys)
    assert code == 2, err
    assert err.startswith(f"workbench: error: {path}{message}"), err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args", [("capacity", "plan", "export"), ("scenario", "list"), ("faults", "list", "--json")]
)
def test_output_to_a_full_disk_is_one_line_not_a_traceback(args: tuple[str, ...]) -> None:
    # `workbench capacity plan export > plan.yaml` on a full disk ended in a traceback
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "workbench.cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert (proc.returncode, proc.stderr) == (
        1,
        "workbench: error: cannot write the output: No space left on device\n",
    )


@pytest.mark.parametrize(
    "args",
    [
        ("class", "up", "--scenario", "p3-paper-out", "--trainees", "1"),
        ("scenario", "run", "p3-paper-out", "--live"),
        ("demo",),
    ],
)
def test_a_state_dir_that_cannot_be_made_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    # a state dir under a file (or under /proc, or without permission) ended in a traceback
    (tmp_path / "file").write_text("")
    where = tmp_path / "file" / "state"
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args, "--state-dir", str(where)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"workbench: error: {where}")  # or the first dir made in it
    assert proc.stderr.endswith(": Not a directory\n")
