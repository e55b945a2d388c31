"""The workbench's pytest plugin (registered through the ``pytest11`` entry point): a ``kiosk``
fixture that starts a simulated terminal on loopback for each test that asks for it.

    @pytest.mark.kiosk(profile="bill_payment", speed=60)
    @pytest.mark.kiosk_scenario("p3-paper-out")   # optional: play a scenario's timeline too
    def test_receipt(kiosk):
        printer = Serial(kiosk.endpoints["printer"]["serial"])
        kiosk.inject("printer.paper_out")
        assert kiosk.faults() == ["printer.paper_out", "printer.paper_near_end"]

Options: ``--kiosk-profile``, ``--kiosk-speed``, ``--kiosk-strict`` (fail a test whose kiosk
software left protocol findings). The fixture is :class:`scenarios.testing.SimulatedKiosk`.
Importing this module is cheap: the simulators load only when a test uses the fixture.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from scenarios.testing import SimulatedKiosk

MARKER_KEYWORDS = ("profile", "speed", "seed", "terminal_id", "strict", "record")
"""What ``@pytest.mark.kiosk(...)`` takes."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kiosk", "simulated kiosks (kiosk-workbench)")
    group.addoption(
        "--kiosk-profile",
        default=None,
        help="Profile of the 'kiosk' fixture when the test's marker names none (default bill_payment).",
    )
    group.addoption(
        "--kiosk-speed",
        type=float,
        default=None,
        help="Simulated seconds per wall second of the 'kiosk' fixture (default 60).",
    )
    group.addoption(
        "--kiosk-strict",
        action="store_true",
        default=False,
        help="Fail a test that leaves protocol findings on its kiosk.",
    )


def pytest_configure(config: pytest.Config) -> None:
    from workbench.clock import MAX_SPEED

    speed = config.getoption("--kiosk-speed")
    if speed is not None and not 0 < speed <= MAX_SPEED:  # once, not an error in every test
        raise pytest.UsageError(f"--kiosk-speed(={speed:g}) must be > 0 and at most {MAX_SPEED:g}")
    config.addinivalue_line(
        "markers",
        "kiosk(profile='bill_payment', speed=60, seed=0, terminal_id='KSK-TEST', strict=False, "
        "record=None): "
        "how the 'kiosk' fixture's simulated terminal is set up",
    )
    config.addinivalue_line(
        "markers",
        "kiosk_scenario(name): play this scenario's timeline on the 'kiosk' fixture (its profile, "
        "seed and time of day) while the test runs",
    )


@pytest.fixture
def kiosk(request: pytest.FixtureRequest) -> Iterator[SimulatedKiosk]:
    """A simulated kiosk in live time on loopback: ``endpoints``, ``inject``, ``clear``, ``act``,
    ``receipts()``, ``credits()``, ``faults()``, ``advance(seconds)``, ``findings()``."""
    from scenarios.testing import SimulatedKiosk
    from workbench.errors import WorkbenchError

    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("kiosk")
    if marker is not None:
        if len(marker.args) > 1:
            pytest.fail(
                f"@pytest.mark.kiosk takes one positional argument (the profile), "
                f"not {len(marker.args)}",
                pytrace=False,
            )
        if marker.args:
            options["profile"] = marker.args[0]
        for key in marker.kwargs:
            if key not in MARKER_KEYWORDS:
                close = difflib.get_close_matches(key, MARKER_KEYWORDS, n=1)
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                pytest.fail(
                    f"@pytest.mark.kiosk: unknown keyword {key!r}{guess}; valid: "
                    + ", ".join(MARKER_KEYWORDS),
                    pytrace=False,
                )
        options.update(marker.kwargs)
    config = request.config
    profile, speed = config.getoption("--kiosk-profile"), config.getoption("--kiosk-speed")
    options.setdefault("profile", "bill_payment" if profile is None else profile)
    options.setdefault("speed", 60.0 if speed is None else speed)  # 0 is refused, not 60
    strict = bool(options.pop("strict", False) or config.getoption("--kiosk-strict"))
    scenario = request.node.get_closest_marker("kiosk_scenario")
    if scenario is not None:
        if not scenario.args:
            raise pytest.UsageError("@pytest.mark.kiosk_scenario needs a scenario name or path")
        options["scenario"] = scenario.args[0]
    try:
        simulated = SimulatedKiosk(strict=strict, **options).start()
    except WorkbenchError as exc:  # a bad profile, speed or scenario: one line, no traceback
        pytest.fail(f"kiosk fixture: {exc}", pytrace=False)
    try:
        yield simulated
    finally:
        simulated.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """In strict mode, a test that passed fails when its kiosk software left findings."""
    result = yield
    kiosk = getattr(item, "funcargs", {}).get("kiosk")
    if kiosk is not None and getattr(kiosk, "strict", False):
        findings = kiosk.findings()
        if findings:
            pytest.fail(
                "the kiosk software misbehaved on the wire (strict mode):\n  "
                + "\n  ".join(findings),
                pytrace=False,
            )
    return result
