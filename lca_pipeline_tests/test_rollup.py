"""Per-minute roll-up at the edge (issue 12, item 4): `lca collect --write minutes` rows are an input
(`gpu_energy_minutes`) whose counter energy equals the raw samples' to the microjoule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lca_pipeline_tests.builders import query, run, scalar, ts, write
from lca_pipeline_tests.test_collector import FakeClock, FakeNvml, epoch
from lca_pipeline_tests.test_collector import run as collect

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

HOURLY = ("SELECT host, gpu, hour_start, partition_day, energy_kwh, covered_s, intervals, counter_intervals, "
          "counter_resets FROM intermediate.telemetry_energy_hourly WHERE component = 'gpu' "
          "ORDER BY host, gpu, hour_start, partition_day")


def _site(data: Path, host: str = "node01", gpu_count: int = 4) -> None:
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.5}])
    write(data, "hosts", [{"host": host, "site": "s1", "role": "compute", "gpu_count": gpu_count}])
    write(data, "grid_intensity", [{"zone": "Z1", "ts": ts(hours=h), "gco2e_per_kwh": 100.0} for h in range(-1, 4)])


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """2 h 10 min at 1 Hz of 3 fake GPUs from 23:55 (two UTC days), written raw and rolled up: GPU 1's
    counter restarts at 00:30:10.5, GPU 2 is lost at 01:20:00."""
    out = tmp_path_factory.mktemp("collected")
    t0 = epoch("2023-12-31T23:55:00")
    clock = FakeClock(t0)
    nvml = FakeNvml(clock, n_gpus=3, read_cost=0.0, reset_at={1: t0 + 35 * 60 + 10.5}, lost_after={2: 85 * 60})
    stats = collect(out, clock, nvml, duration_s=130 * 60, write="both")
    assert stats.lost_gpus == [2] and stats.minute_rows == 130 + 130 + 85
    return out


def _data(tmp_path: Path, collected: Path, *inputs: str) -> Path:
    data = tmp_path / "data"
    _site(data)
    for name in inputs:
        shutil.copytree(collected / name, data / name)
    return data


def test_rolled_up_day_gives_the_samples_energy_hour_by_hour(tmp_path, collected):
    samples_db, _ = run(_data(tmp_path / "a", collected, "gpu_samples"), tmp_path / "a")
    minutes_db, _ = run(_data(tmp_path / "b", collected, "gpu_energy_minutes"), tmp_path / "b")
    raw = query(samples_db, HOURLY)
    rolled = query(minutes_db, HOURLY)
    assert [r[:4] for r in rolled] == [r[:4] for r in raw]  # the same GPU-hours on the same days
    for a, b in zip(raw, rolled):
        # every interval between two samples is either inside a minute (last - first counter) or
        # between two minutes (bridged like a pair of samples): energy, coverage and interval counts agree
        assert b[4] == pytest.approx(a[4], rel=1e-9, abs=1e-12), a[:3]
        assert b[5] == a[5] and b[6] == a[6] and b[8] == a[8], a[:3]
    # GPU 0 (constant 100 W for 130 min): 7799 one-second intervals, all from the counter
    gpu0 = [r for r in rolled if r[1] == 0]
    assert sum(r[4] for r in gpu0) == pytest.approx(100 * 7799 / 3.6e6, rel=1e-9)
    assert sum(r[7] for r in gpu0) == 7799
    # the restart is one reset on both paths; the roll-up takes that minute from mean power
    assert sum(r[8] for r in raw if r[1] == 1) == sum(r[8] for r in rolled if r[1] == 1) == 1
    assert sum(r[7] for r in rolled if r[1] == 1) == sum(r[7] for r in raw if r[1] == 1) - 58
    total = "SELECT sum(energy_gpu_kwh) FROM intermediate.gpu_hourly"
    assert scalar(minutes_db, total) == pytest.approx(scalar(samples_db, total), rel=1e-12)
    # partitions: the roll-up's two UTC days are found like the samples' days
    days = {str(d) for (d,) in query(minutes_db, "SELECT DISTINCT CAST(partition_day AS VARCHAR) FROM "
                                                 "intermediate.telemetry_energy_hourly")}
    assert days == {"2023-12-31", "2024-01-01"}
    assert scalar(minutes_db, "SELECT sum(rows_staged) FROM staging.gpu_energy_minutes") == 345
    assert scalar(minutes_db, "SELECT count(*) FROM audit.quarantine") == 0
    # `lca explain` names the roll-up files it rests on, with the sha256 recorded at staging
    from lca_pipeline.explain import explain
    from lca_pipeline.ingest import sha256_file

    files = explain(minutes_db, stage="unallocated", date="2024-01-01", site="s1")["source_files"]
    rolled_files = {f["path"]: f["sha256"] for f in files if f["input"] == "gpu_energy_minutes"}
    assert rolled_files and all(sha256_file(Path(path)) == sha for path, sha in rolled_files.items())


def test_samples_win_over_the_roll_up_of_the_same_gpu_day(tmp_path, collected):
    samples_db, _ = run(_data(tmp_path / "a", collected, "gpu_samples"), tmp_path / "a")
    both_db, _ = run(_data(tmp_path / "b", collected, "gpu_samples", "gpu_energy_minutes"), tmp_path / "b")
    assert query(both_db, HOURLY) == query(samples_db, HOURLY)  # identical: nothing counted twice
    # GPU 1's samples of 2024-01-01 removed: that GPU-day comes from its roll-up, the rest from samples
    data = tmp_path / "c" / "data"
    _site(data)
    shutil.copytree(collected / "gpu_energy_minutes", data / "gpu_energy_minutes")
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    (data / "gpu_samples").mkdir()
    for f in sorted((collected / "gpu_samples").glob("*.parquet")):
        t = pq.read_table(f)
        keep = pc.invert(pc.and_(pc.equal(t["gpu"], 1), pc.greater_equal(t["ts"], pc.strptime(
            "2024-01-01", format="%Y-%m-%d", unit="us"))))
        pq.write_table(t.filter(keep), data / "gpu_samples" / f.name)
    mixed_db, _ = run(data, tmp_path / "c")
    got = query(mixed_db, HOURLY)
    want = query(samples_db, HOURLY)
    assert [r[:4] for r in got] == [r[:4] for r in want]
    for a, b in zip(want, got):
        assert b[4] == pytest.approx(a[4], rel=1e-9), a[:3]
        if (b[1], str(b[3])) != (1, "2024-01-01"):
            assert b == a  # untouched GPU-days are the samples' rows, byte for byte


def test_hand_made_minutes_counter_bridge_hour_split_and_power_fallback(tmp_path):
    data = tmp_path / "data"
    _site(data, host="h1", gpu_count=2)
    mj = 1000.0  # 1 J
    write(data, "gpu_energy_minutes", [
        # GPU 0 at 300 W: 00:58:00-00:58:50, 00:59:00-00:59:55, 01:00:05-01:00:50 (counter)
        {"ts": ts(minutes=58), "host": "h1", "gpu": 0, "first_ts": ts(minutes=58), "last_ts": ts(minutes=58, seconds=50),
         "first_energy_mj": 0.0, "last_energy_mj": 300 * 50 * mj, "samples": 6, "mean_power_w": 300.0},
        {"ts": ts(minutes=59), "host": "h1", "gpu": 0, "first_ts": ts(minutes=59), "last_ts": ts(minutes=59, seconds=55),
         "first_energy_mj": 300 * 60 * mj, "last_energy_mj": 300 * 115 * mj, "samples": 12, "mean_power_w": 300.0},
        {"ts": ts(minutes=60), "host": "h1", "gpu": 0, "first_ts": ts(minutes=60, seconds=5),
         "last_ts": ts(minutes=60, seconds=50), "first_energy_mj": 300 * 125 * mj, "last_energy_mj": 300 * 170 * mj,
         "samples": 10, "mean_power_w": 300.0},
        # GPU 1 without a counter: power only; the 50 s between its rows is a trapezoid of 100 W and 200 W
        {"ts": ts(minutes=10), "host": "h1", "gpu": 1, "first_ts": ts(minutes=10), "last_ts": ts(minutes=10, seconds=20),
         "samples": 3, "mean_power_w": 90.0, "first_power_w": 80.0, "last_power_w": 100.0, "covered_s": 20.0},
        {"ts": ts(minutes=11), "host": "h1", "gpu": 1, "first_ts": ts(minutes=11, seconds=10),
         "last_ts": ts(minutes=11, seconds=10), "samples": 1, "mean_power_w": 200.0},
    ])
    db, _ = run(data, tmp_path)
    assert scalar(db, "SELECT count(*) FROM audit.quarantine") == 0
    rows = query(db, "SELECT gpu, hour_start, energy_kwh, covered_s, intervals, counter_intervals FROM "
                     "intermediate.telemetry_energy_hourly ORDER BY gpu, hour_start")
    # hour 0: 50 + 10 (bridge) + 55 s, plus 5 of the 10 s bridge to 01:00:05; hour 1: 5 + 45 s
    assert [(g, h.hour, c, i, k) for g, h, _, c, i, k in rows] == [
        (0, 0, 120.0, 5 + 1 + 11 + 1, 5 + 1 + 11 + 1), (0, 1, 50.0, 1 + 9, 1 + 9), (1, 0, 70.0, 2 + 1, 0)]
    assert rows[0][2] == pytest.approx(300 * 120 / 3.6e6, rel=1e-12)
    assert rows[1][2] == pytest.approx(300 * 50 / 3.6e6, rel=1e-12)
    # mean power x covered seconds inside the minute, trapezoid between the minutes
    assert rows[2][2] == pytest.approx((90 * 20 + (100 + 200) / 2 * 50) / 3.6e6, rel=1e-12)
    assert scalar(db, "SELECT method FROM intermediate.gpu_hourly WHERE gpu = 1") == "power_integral"
    assert scalar(db, "SELECT method FROM intermediate.gpu_hourly WHERE gpu = 0 AND hour(hour_start) = 1") == "counter"


def test_bad_minute_rows_are_quarantined_with_reasons(tmp_path):
    data = tmp_path / "data"
    _site(data, host="h1", gpu_count=1)

    def row(m: int, **change) -> dict:
        base = {"ts": ts(minutes=m), "host": "h1", "gpu": 0, "first_ts": ts(minutes=m),
                "last_ts": ts(minutes=m, seconds=59), "first_energy_mj": 1000.0, "last_energy_mj": 2000.0,
                "samples": 60, "mean_power_w": 100.0, "min_power_w": 90.0, "max_power_w": 110.0, "covered_s": 59.0,
                "counter_resets": 0, "mean_util_pct": 50.0}
        return {**base, **change}

    # (change for minute m, column, reason); each bad row has a minute of its own
    bad = [
        (lambda m: {"ts": ts(minutes=m, seconds=30)}, "ts", "not the start of a UTC minute"),
        (lambda m: {"ts": "yesterday"}, "ts", "unparseable timestamp"),
        (lambda m: {"host": "nope"}, "host", "unknown host (not in hosts)"),
        (lambda m: {"gpu": -1}, "gpu", "not a GPU index (integer >= 0)"),
        (lambda m: {"last_ts": ts(minutes=m + 1)}, "last_ts", "outside the minute starting at ts"),
        (lambda m: {"first_ts": ts(minutes=m, seconds=59), "last_ts": ts(minutes=m, seconds=1)}, "last_ts",
         "before first_ts"),
        (lambda m: {"samples": 0}, "samples", "not a sample count (integer >= 1)"),
        (lambda m: {"samples": 1}, "samples", "one sample but first_ts and last_ts differ"),
        (lambda m: {"covered_s": 61.0}, "covered_s", "outside 0 .. last_ts - first_ts"),
        (lambda m: {"mean_power_w": -5.0}, "mean_power_w", "negative power"),
        (lambda m: {"mean_power_w": 5000.0}, "mean_power_w", "power above physical bound ([telemetry] max_gpu_power_w)"),
        (lambda m: {"min_power_w": 120.0}, "min_power_w", "not a power within 0 .. mean_power_w"),
        (lambda m: {"max_power_w": 50.0}, "max_power_w", "not a power within mean_power_w .. [telemetry] max_gpu_power_w"),
        (lambda m: {"first_energy_mj": -1.0}, "first_energy_mj", "negative energy counter"),
        (lambda m: {"last_energy_mj": None}, "last_energy_mj",
         "first_energy_mj and last_energy_mj must both be given or both empty"),
        (lambda m: {"mean_util_pct": 101.0}, "mean_util_pct", "utilisation outside 0-100 %"),
        (lambda m: {"counter_resets": -1}, "counter_resets", "not a count (integer >= 0)"),
    ]
    rows = [row(1)] + [row(3 + i, **change(3 + i)) for i, (change, _, _) in enumerate(bad)] + [row(1)]
    write(data, "gpu_energy_minutes", rows)
    db, _ = run(data, tmp_path)
    got = query(db, "SELECT column_name, reason FROM audit.quarantine WHERE input = 'gpu_energy_minutes' "
                    "ORDER BY source_row")
    assert got == [(c, r) for _, c, r in bad] + [("ts", "duplicate key (host, gpu, ts)")]
    assert scalar(db, "SELECT sum(rows_staged) FROM staging.gpu_energy_minutes") == 1
    balance = query(db, "SELECT rows_read, rows_staged, rows_quarantined, rows_pending FROM audit.source_files "
                        "WHERE input = 'gpu_energy_minutes'")
    assert balance == [(len(rows), 1, len(bad) + 1, 0)]
    # the one good minute: 1 J over 59 s from the counter
    assert scalar(db, "SELECT sum(energy_gpu_kwh) FROM intermediate.gpu_hourly") == pytest.approx(1 / 3.6e6, rel=1e-12)
