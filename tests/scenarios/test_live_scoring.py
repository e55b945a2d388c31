"""A live scenario at speed 60 with trainees driven through ``workbench remote``: the correct run
scores full marks; a run that sends an engineer for a remote-fixable fault loses what it should.
Also: a class comes up with a grant and a handout per trainee and no answer key in them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testkit import workbench_cli

from remote.certs import read_certificate_info
from remote.window import CertificateAuthority, engineer_key
from scenarios.classroom import Classroom
from scenarios.library import LIBRARY_DIR, load
from scenarios.live import LiveScenario

pytestmark = pytest.mark.timeout(90)


def scenario_file(tmp: Path) -> Path:
    """The library's display scenario with the ticket 30 s in (not 10 min: a short test)."""
    text = (LIBRARY_DIR / "display-brightness-low.yaml").read_text()
    path = tmp / "display-brightness-low.yaml"
    path.write_text(text.replace("  at: 10m\n", "  at: 30s\n", 1))
    return path


async def test_scores_of_a_correct_run_and_of_an_unneeded_visit(state_dir: Path) -> None:
    loaded = load(scenario_file(state_dir))
    async with LiveScenario(loaded, state_dir, ["KSK-T01", "KSK-T02"], speed=60) as live:
        ca = CertificateAuthority(live.ca_dir)
        files = {}
        for n, tid in ((1, "KSK-T01"), (2, "KSK-T02")):
            key = engineer_key(state_dir / f"t{n}", f"t{n}@class")
            cert = state_dir / f"t{n}-cert.pub"
            cert.write_bytes(
                ca.grant([tid], key.convert_to_public(), allow=("diag", "remedy")).certificate
            )
            files[tid] = [
                "--endpoints",
                str(state_dir / tid / "endpoints.json"),
                "--key",
                str(state_dir / f"t{n}"),
                "--cert",
                str(cert),
                "--known-hosts",
                str(live.ca_dir / "known_hosts"),
            ]
        await live.kiosks.clock.wait(live.kiosks.env.timeout(40))  # past the ticket (30 s in)
        # Trainee 1: diagnoses, then fixes it remotely.
        assert await workbench_cli("remote", "run", *files["KSK-T01"], "display") == 0
        assert (
            await workbench_cli(
                "remote", "exec", *files["KSK-T01"], "remedy", "display.set_brightness"
            )
            == 0
        )
        # Trainee 2: diagnoses the same, then sends an engineer for a setting.
        assert (
            await workbench_cli("remote", "exec", *files["KSK-T02"], "diag", "run", "display") == 0
        )
        assert (
            await workbench_cli(
                "scenario",
                "dispatch",
                "display.brightness_low",
                "--id",
                "KSK-T02",
                "--state-dir",
                str(state_dir),
            )
            == 0
        )
        cards = {}
        for tid in ("KSK-T01", "KSK-T02"):
            out = state_dir / f"{tid}.json"
            assert (
                await workbench_cli(
                    "scenario",
                    "score",
                    "--id",
                    tid,
                    "--state-dir",
                    str(state_dir),
                    "--out",
                    str(out),
                )
                == 0
            )
            cards[tid] = json.loads(out.read_text())
    good = cards["KSK-T01"]
    assert (good["points"], good["max_points"], good["trainee"]) == (100, 100, "t1@class")
    done = [a["action"] for a in good["actions"]]
    assert done.index("diag run display") < done.index("remedy display.set_brightness")
    bad = {i["name"]: i["points"] for i in cards["KSK-T02"]["items"]}
    assert bad == {
        "diagnosed": 20,
        "identified": 30,  # it named the right fault...
        "resolved": 0,  # ...but the answer was a remote remedy
        "restored": 0,  # the engineer is still an hour away
        "unnecessary_visit": -30,
    }
    assert cards["KSK-T02"]["points"] == 20


async def test_a_class_comes_up_with_grants_and_handouts(state_dir: Path) -> None:
    loaded = load("display-no-signal-needs-visit")
    async with Classroom(loaded, state_dir, 3, speed=60) as room:
        assert [t.terminal for t in room.trainees] == ["KSK-T01", "KSK-T02", "KSK-T03"]
        handout = room.trainees[1].handout.read_text()
        assert "You are **t02**" in handout and "KSK-T02" in handout
        assert "The kiosk screen has been black since we opened." in handout
        assert "display.no_signal" not in handout  # no answer key
        # nor the scenario's name or title, in the handout or the certificate's ticket: they
        # were '# Training: A dark screen that looks like a remote fix but needs a visit' and
        # 'CLASS-display-no-signal-needs-visit' (the TUI's session bar, the agent's window)
        assert loaded.scenario.name not in handout and "needs a visit" not in handout
        assert handout.startswith("# Training: a ticket from branch staff (Hillside hall)\n")
        t02 = room.trainees[1]
        assert read_certificate_info(t02.cert).ticket == "TRAIN-T02"
        # the TUI too (a trainee looked for it in vain): their window, their ticket
        assert (
            f"workbench tui --state-dir {state_dir} --key {t02.key} --cert {t02.cert} "
            + f"--known-hosts {room.live.ca_dir / 'known_hosts'} --ticket TRAIN-T02\n"
        ) in handout
        assert oct(room.trainees[0].key.stat().st_mode & 0o777) == "0o600"
        assert (
            await workbench_cli(
                "remote",
                "exec",
                "--endpoints",
                str(state_dir / "KSK-T02" / "endpoints.json"),
                "--key",
                str(room.trainees[1].key),
                "--cert",
                str(room.trainees[1].cert),
                "--known-hosts",
                str(room.live.ca_dir / "known_hosts"),
                "status",
            )
            == 0
        )
        # A trainee's certificate opens only their own kiosk.
        assert (
            await workbench_cli(
                "remote",
                "exec",
                "--endpoints",
                str(state_dir / "KSK-T01" / "endpoints.json"),
                "--key",
                str(room.trainees[1].key),
                "--cert",
                str(room.trainees[1].cert),
                "--known-hosts",
                str(room.live.ca_dir / "known_hosts"),
                "status",
            )
            == 6
        )
        assert await workbench_cli("class", "status", "--state-dir", str(state_dir), "--json") == 0


async def test_a_dispatched_engineer_travels_repairs_and_restores_service(state_dir: Path) -> None:
    text = (LIBRARY_DIR / "display-no-signal-needs-visit.yaml").read_text()
    path = state_dir / "display-no-signal-needs-visit.yaml"
    path.write_text(text + "site_visit:\n  travel: 5m\n")
    async with LiveScenario(load(path), state_dir, ["KSK-T01"], speed=600) as live:
        kiosks = live.kiosks
        assert kiosks is not None
        await kiosks.clock.wait(kiosks.env.timeout(1))  # the timeline's first step is at 0
        assert "display.no_signal" in kiosks.terminals["KSK-T01"].active_faults()
        assert (
            await workbench_cli(
                "scenario", "dispatch", "display.no_signal", "--state-dir", str(state_dir)
            )
            == 0
        )
        # travel 5 min + the catalog's 30 min repair, simulated (3.5 s of wall time at 600x)
        while "display.no_signal" in kiosks.terminals["KSK-T01"].active_faults():
            await kiosks.clock.wait(kiosks.env.timeout(60))
        [visit] = kiosks.store.dispatches("KSK-T01")
        assert visit["outcome"] == "repaired display.no_signal"
        assert visit["sim_arrived"] - visit["sim_requested"] == pytest.approx(300)
        assert visit["sim_done"] - visit["sim_arrived"] == pytest.approx(1800)
        log = [text for _, text in live.timelines["KSK-T01"].log if "site" in text]
        assert log == [
            "site visit requested for display.no_signal",
            "engineer on site for display.no_signal",
            "site visit: repaired display.no_signal",
        ]
