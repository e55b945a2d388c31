"""Drive a program in a real terminal, as a user would: a private tmux server (its own socket)
holding one session, keys sent with ``send-keys``, the screen read with ``capture-pane``, and each
character's colours parsed from ``capture-pane -e`` to judge what a person can read."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
Colour = tuple[int, int, int]
DEFAULT_FG: Colour = (229, 229, 229)
DEFAULT_BG: Colour = (0, 0, 0)
"""xterm's own defaults, where a program leaves the terminal's colours (SGR 39/49)."""


def xterm_256(index: int) -> Colour:
    """The RGB of an xterm 256-colour palette index (16 system colours, a 6x6x6 cube, greys)."""
    system = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]  # fmt: skip
    if index < 16:
        return system[index]
    if index < 232:
        steps = (0, 95, 135, 175, 215, 255)
        i = index - 16
        return (steps[i // 36], steps[i // 6 % 6], steps[i % 6])
    grey = 8 + 10 * (index - 232)
    return (grey, grey, grey)


def contrast(a: Colour, b: Colour) -> float:
    """WCAG contrast ratio of two colours: 1 (the same) to 21 (black on white)."""

    def luminance(c: Colour) -> float:
        def channel(x: int) -> float:
            v = x / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(x) for x in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@dataclass(frozen=True, slots=True)
class Cell:
    """One character on screen with the colours it is drawn in."""

    char: str
    fg: Colour
    bg: Colour
    reverse: bool
    depth: str  # "default" | "16" | "256" | "rgb": how the program named the foreground


def cells(captured: str) -> list[list[Cell]]:
    """Parse ``capture-pane -p -e`` output into rows of cells (SGR colours and reverse only)."""
    rows: list[list[Cell]] = []
    fg, bg, reverse, depth = DEFAULT_FG, DEFAULT_BG, False, "default"
    for line in captured.split("\n"):
        row: list[Cell] = []
        pos = 0
        for match in [*SGR.finditer(line), None]:
            end = match.start() if match else len(line)
            row += [Cell(ch, fg, bg, reverse, depth) for ch in line[pos:end]]
            if match is None:
                break
            pos = match.end()
            params = [int(p or 0) for p in re.split("[;:]", match.group(1))]
            i = 0
            while i < len(params):
                p = params[i]
                if p == 0:
                    fg, bg, reverse, depth = DEFAULT_FG, DEFAULT_BG, False, "default"
                elif p in (38, 48):
                    if params[i + 1] == 5:
                        colour, kind, i = xterm_256(params[i + 2]), "256", i + 2
                    else:
                        colour, kind, i = (
                            (params[i + 2], params[i + 3], params[i + 4]),
                            "rgb",
                            i + 4,
                        )
                    if p == 38:
                        fg, depth = colour, kind
                    else:
                        bg = colour
                elif p == 39:
                    fg, depth = DEFAULT_FG, "default"
                elif p == 49:
                    bg = DEFAULT_BG
                elif 30 <= p <= 37 or 90 <= p <= 97:
                    fg, depth = xterm_256(p % 10 + (8 if p >= 90 else 0)), "16"
                elif 40 <= p <= 47 or 100 <= p <= 107:
                    bg = xterm_256(p % 10 + (8 if p >= 100 else 0))
                elif p == 7:
                    reverse = True
                elif p == 27:
                    reverse = False
                i += 1
        rows.append(row)
    return rows


class Tmux:
    """A private tmux server (its own socket) holding one session named ``tui``."""

    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name]

    async def __call__(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            *self.base, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode()

    async def screen(self) -> str:
        return await self("capture-pane", "-p", "-t", "tui")

    async def coloured(self) -> list[list[Cell]]:
        """The screen's characters with their colours."""
        return cells(await self("capture-pane", "-p", "-e", "-t", "tui"))

    async def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Seconds until ``text`` is on the screen."""
        start = time.perf_counter()
        while text not in (shown := await self.screen()):
            if time.perf_counter() - start > timeout:
                raise AssertionError(f"{text!r} not on screen within {timeout} s:\n{shown}")
            await asyncio.sleep(0.1)  # polling the screen, not waiting for a server
        return time.perf_counter() - start

    async def wait_until(
        self, what: str, condition: Callable[[list[str]], bool], timeout: float = 30.0
    ) -> list[str]:
        """The screen's lines once ``condition`` holds for them."""
        start = time.perf_counter()
        while not condition(lines := (await self.screen()).splitlines()):
            if time.perf_counter() - start > timeout:
                shown = "\n".join(lines)
                raise AssertionError(f"not {what} within {timeout} s:\n{shown}")
            await asyncio.sleep(0.1)
        return lines

    async def wait_gone(self, text: str, timeout: float = 30.0) -> None:
        start = time.perf_counter()
        while text in (shown := await self.screen()):
            if time.perf_counter() - start > timeout:
                raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{shown}")
            await asyncio.sleep(0.1)

    async def keys(self, *keys: str) -> None:
        """Type at a person's pace: a key that lands while a screen is still being swapped in
        goes to the screen before it, as it would for a person typing ahead that fast."""
        for key in keys:
            await asyncio.sleep(0.3)
            await self("send-keys", "-t", "tui", key)
