"""Sweeps: local processes and a Dask LocalCluster give the same numbers for the same seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.capacity.config import Plan
from workbench.capacity.model import Inputs
from workbench.capacity.plot import plot_png, render_text
from workbench.capacity.sweep import load, run_raw, save, sweep
from workbench.errors import ConfigError


def _numbers(points: list) -> list[dict[str, float]]:
    return [{k: (v.mean, v.half) for k, v in p.summary.items()} for p in points]


def test_serial_local_processes_and_dask_agree(small_plan: Plan, inputs: Inputs) -> None:
    from distributed import LocalCluster

    kwargs = {"reps": 2, "seed": 4, "years": 0.05}
    serial = sweep(small_plan, inputs, "engineers", [4, 8], workers=1, **kwargs)
    local = sweep(small_plan, inputs, "engineers", [4, 8], workers=2, **kwargs)
    # a real cluster: two worker processes, which import the worker function themselves
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert len(cluster.workers) == 2
        done: list[tuple[int, int]] = []
        dask = sweep(
            small_plan,
            inputs,
            "engineers",
            [4, 8],
            scheduler=cluster.scheduler_address,
            progress=lambda d, t: done.append((d, t)),
            **kwargs,
        )
        # one replication, fewer than the cluster's 2 workers: its 2 regions go out as 2 calls
        region_calls: list[tuple[int, int]] = []
        one_on_dask = run_raw(
            [small_plan], inputs, [0], 4, 0.05, scheduler=cluster.scheduler_address,
            progress=lambda d, t: region_calls.append((d, t)),
        )  # fmt: skip
    assert _numbers(serial) == _numbers(local) == _numbers(dask)
    assert done[-1] == (4, 4)
    assert [p.value for p in dask] == [4, 8]
    assert region_calls[-1] == (2, 2)
    assert one_on_dask == run_raw([small_plan], inputs, [0], 4, 0.05, workers=1)


def test_one_replication_with_its_regions_on_two_processes_gives_the_same_figures(
    small_plan: Plan, inputs: Inputs
) -> None:
    calls: list[tuple[int, int]] = []
    split = run_raw(
        [small_plan], inputs, [3], 2, 0.1, workers=2, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (2, 2)  # North and South ran as two calls
    whole = run_raw([small_plan], inputs, [3], 2, 0.1, workers=1)
    assert split == whole
    assert whole[0][0]["overall.faults"] > 500


def test_results_round_trip_and_plot(small_plan: Plan, inputs: Inputs, tmp_path: Path) -> None:
    points = sweep(small_plan, inputs, "engineers", [3, 6], reps=2, seed=1, years=0.1, workers=1)
    for name in ("r.csv", "r.json"):
        save(points, tmp_path / name)
        back = load(tmp_path / name)
        assert [p.value for p in back] == [3, 6]
        for a, b in zip(points, back, strict=True):
            for key in (
                "overall.P1.onsite",
                "overall.utilisation",
                "North.faults",
            ):
                assert b.summary[key].mean == pytest.approx(a.summary[key].mean, abs=1e-6)
    png = plot_png(load(tmp_path / "r.csv"), tmp_path / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = render_text(points, width=80, height=20)
    assert "engineers" in text and len(text.splitlines()) >= 15
    with pytest.raises(ConfigError, match=r"\.csv or \.json"):
        save(points, tmp_path / "r.txt")
    (tmp_path / "bad.json").write_text("[{}]")
    with pytest.raises(ConfigError, match="not a sweep results file"):
        load(tmp_path / "bad.json")
