"""The README's eSSP host, run as written against a kiosk whose validator requires encryption
(the README's ``cash_essp.yaml``): its output is the README's, but for the negotiated half of
the key, which is random. How many polls each state of the note spans is the host's timing; the
host prints the events in order, a repeated state once, so that does not show."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from devices.kiosk import KioskHost

README = Path(__file__).resolve().parents[2] / "README.md"
KEY = re.compile(r"^key     6745230167452301[0-9a-f]{8}0{8}$")
"""The fixed key (ITL's default), then a negotiated key below 2**31: the line's form."""


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def readme_example() -> tuple[str, str, list[str]]:
    """The profile, the host's code and the output the README shows for it."""
    blocks = _blocks(README.read_text(encoding="utf-8"))
    profile = next(b for lang, b in blocks if lang == "yaml" and "name: cash_essp" in b)
    code = next(b for lang, b in blocks if lang == "python" and "essp.HostOffer" in b)
    console = next(b for lang, b in blocks if lang == "console" and "python essp_host.py" in b)
    shown = console.splitlines()
    return profile, code, shown[shown.index(next(s for s in shown if "essp_host.py" in s)) + 1 :]


@pytest.mark.timeout(60)
async def test_the_readme_essp_host_prints_what_the_readme_shows(
    state_dir: Path, tmp_path: Path
) -> None:
    profile, code, shown = readme_example()
    (tmp_path / "cash_essp.yaml").write_text(profile, encoding="utf-8")
    (tmp_path / "essp_host.py").write_text(code, encoding="utf-8")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    async with KioskHost(state_dir, tmp_path / "cash_essp.yaml", ["KSK-0007"], speed=1):
        host = await asyncio.create_subprocess_exec(
            sys.executable,
            str(tmp_path / "essp_host.py"),
            str(state_dir / "KSK-0007" / "endpoints.json"),
            str(state_dir),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PATH": path},
        )
        out, err = await host.communicate()
    assert host.returncode == 0, err.decode()
    printed = out.decode().splitlines()
    keys = [n for n, line in enumerate(shown) if line.startswith("key ")]
    assert len(keys) == 1 and KEY.match(shown[keys[0]]), shown
    assert KEY.match(printed[keys[0]]), printed
    assert printed[: keys[0]] + printed[keys[0] + 1 :] == shown[: keys[0]] + shown[keys[0] + 1 :]
