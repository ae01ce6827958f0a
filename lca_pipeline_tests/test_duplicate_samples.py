"""Duplicate telemetry keys are found by the hourly energy step (sorted samples), not by staging.

Staging counts them as staged; the energy step's load moves them to the quarantine and every count,
in one transaction, and gives back the previous run's first, so re-running never counts twice.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from lca_pipeline.runner import RunFailed, run_pipeline
from lca_pipeline_tests.builders import base_site, constant_power, hourly_grid, query, run, scalar, ts, write

pytestmark = pytest.mark.slow

ENERGY = "intermediate.telemetry_energy_hourly"


def _accounting(db) -> dict:
    return {
        "quarantine": query(db, "SELECT input, source_file LIKE '%b.csv', source_row, reason, raw_value "
                                "FROM audit.quarantine ORDER BY ALL"),
        "counts": query(db, "SELECT input, source_file LIKE '%b.csv', partition_day, rows_staged, rows_quarantined "
                            "FROM audit.ingest_counts WHERE input IN ('gpu_samples', 'node_samples') ORDER BY ALL"),
        "files": query(db, "SELECT input, path LIKE '%b.csv', rows_read, rows_staged, rows_quarantined, rows_pending "
                           "FROM audit.source_files WHERE input IN ('gpu_samples', 'node_samples') ORDER BY ALL"),
        "summary": query(db, "SELECT source_file LIKE '%b.csv', host, rows_staged, first_ts, last_ts "
                             "FROM staging.gpu_samples ORDER BY ALL"),
        "energy": scalar(db, f"SELECT sum(energy_kwh) FROM {ENERGY}"),
    }


def _data(tmp_path):
    # a.csv: GPU 0 at 100 W every minute for 10 minutes, and the node's CPU at 50 W likewise.
    # b.csv repeats minute 5 at 3000 W (only that row: the file holds nothing else).
    # node b.csv repeats the CPU's minute 3 at 900 W.
    data = tmp_path / "data"
    base_site(data, gpu_count=1)
    hourly_grid(data, {0: 100.0})
    write(data / "gpu_samples", "a", constant_power("h1", 0, 100, 0, 10, 60))
    write(data / "gpu_samples", "b", [{"ts": ts(5), "host": "h1", "gpu": 0, "power_w": 3000.0}])
    write(data / "node_samples", "a", [{"ts": ts(m), "host": "h1", "component": "cpu", "power_w": 50.0}
                                       for m in range(11)])
    write(data / "node_samples", "b", [{"ts": ts(3), "host": "h1", "component": "cpu", "power_w": 900.0}])
    return data


def test_duplicates_are_quarantined_with_file_row_and_every_count(tmp_path):
    db, outcome = run(_data(tmp_path), tmp_path)
    acc = _accounting(db)
    # The energy asset's materialisation says how many it quarantined.
    event = next(e for e in dg.DagsterInstance.get().all_logs(outcome.run_id)
                 if e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
                 and e.dagster_event.asset_key.to_user_string() == ENERGY.replace(".", "/"))
    assert event.dagster_event.materialization.metadata["duplicate_samples_quarantined"].value == 2
    assert acc["quarantine"] == [
        ("gpu_samples", True, 1, "duplicate key (host, gpu, ts)", "2024-01-01 00:05:00"),
        ("node_samples", True, 1, "duplicate key (host, component, ts)", "2024-01-01 00:03:00"),
    ]
    # 10 one-minute intervals at 100 W (GPU) and at 50 W (CPU); neither duplicate adds energy.
    assert acc["energy"] == pytest.approx((100 + 50) * 600 / 3.6e6, rel=1e-12)
    # b.csv's one row moved from staged to quarantined; a.csv's 11 rows are staged.
    assert acc["files"] == [
        ("gpu_samples", False, 11, 11, 0, 0), ("gpu_samples", True, 1, 0, 1, 0),
        ("node_samples", False, 11, 11, 0, 0), ("node_samples", True, 1, 0, 1, 0),
    ]
    assert [c[3:] for c in acc["counts"]] == [(11, 0), (0, 1), (11, 0), (0, 1)]
    # A file whose every row is a duplicate has no summary row, as when staging finds none valid.
    assert [s[:3] for s in acc["summary"]] == [(False, "h1", 11)]


def test_rerunning_the_energy_step_alone_never_counts_a_duplicate_twice(tmp_path):
    data = _data(tmp_path)
    db, _ = run(data, tmp_path)
    first = _accounting(db)
    for _ in range(2):
        outcome = run_pipeline(data, db, report=False, select=[ENERGY])
        assert outcome.version
        assert _accounting(db) == first
    # Fixing the file (the duplicate removed) and re-running the energy step alone gives the row back
    # neither to staged nor to quarantined twice: b.csv is re-staged with its new contents.
    write(data / "gpu_samples", "b", [{"ts": ts(11), "host": "h1", "gpu": 0, "power_w": 100.0}])
    run(data, tmp_path)
    acc = _accounting(db)
    assert [q[0] for q in acc["quarantine"]] == ["node_samples"]
    assert ("gpu_samples", True, 1, 1, 0, 0) in acc["files"]
    assert acc["energy"] == pytest.approx((100 * 660 + 50 * 600) / 3.6e6, rel=1e-12)


def test_duplicate_before_midnight_keeps_the_first_in_the_next_days_first_interval(tmp_path):
    # 100 W every minute from 23:50 to 00:10; b.csv repeats 23:59 at 3000 W. Day 2's first interval
    # (23:59 -> 00:00) must use the kept sample (a.csv, 100 W) in a one-day run of day 2 as well.
    data = tmp_path / "data"
    base_site(data, gpu_count=1)
    hourly_grid(data, {-1: 100.0, 0: 100.0})
    write(data / "gpu_samples", "a", constant_power("h1", 0, 100, -10, 10, 60))
    write(data / "gpu_samples", "b", [{"ts": ts(-1), "host": "h1", "gpu": 0, "power_w": 3000.0}])
    full = tmp_path / "full" / "lca.duckdb"
    run_pipeline(data, full, report=False, instance=dg.DagsterInstance.ephemeral())
    daily = tmp_path / "daily" / "lca.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    for day in ("2023-12-31", "2024-01-01"):
        assert run_pipeline(data, daily, report=False, days=(day, day), instance=instance).version
    energy = f"SELECT partition_day, hour_start, energy_kwh, intervals FROM {ENERGY} ORDER BY ALL"
    assert query(daily, energy) == query(full, energy)
    # Day 2 owns the interval (23:59, 00:00] in hour 23: 60 s at 100 W (the duplicate's 3000 W would
    # make it (100 + 3000) / 2 W), then ten more minutes at 100 W in hour 0.
    assert query(daily, f"SELECT hour(hour_start), energy_kwh * 3.6e6 FROM {ENERGY} "
                        "WHERE partition_day = '2024-01-01' ORDER BY hour_start") == [
        (23, pytest.approx(100 * 60, rel=1e-12)), (0, pytest.approx(100 * 600, rel=1e-12))]
    assert _accounting(daily)["quarantine"] == _accounting(full)["quarantine"] == [
        ("gpu_samples", True, 1, "duplicate key (host, gpu, ts)", "2023-12-31 23:59:00")]


def test_duplicates_of_a_day_staging_never_counted_are_not_quarantined(tmp_path):
    # a.csv holds day 1 and day 2; b.csv repeats a sample of each day. Only day 1 is staged, then the
    # energy step alone runs over both days: it opens a.csv and b.csv (they have day-1 rows), and
    # finds day 1's duplicate. Day 2's rows were never counted by staging, so its duplicate must not
    # enter the quarantine (the counts would not match it), and a second run must give the same.
    data = tmp_path / "data"
    base_site(data, gpu_count=1)
    hourly_grid(data, {h: 100.0 for h in range(0, 26)})
    write(data / "gpu_samples", "a", constant_power("h1", 0, 100, 0, 10, 60)
          + constant_power("h1", 0, 100, 24 * 60, 24 * 60 + 10, 60))
    write(data / "gpu_samples", "b", [{"ts": ts(5), "host": "h1", "gpu": 0, "power_w": 3000.0},
                                      {"ts": ts(24 * 60 + 5), "host": "h1", "gpu": 0, "power_w": 3000.0}])
    db = tmp_path / "lca.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(data, db, report=False, days=("2024-01-01", "2024-01-01"), instance=instance).version
    first = None
    for _ in range(2):
        # Day 2 has no staged telemetry: the freshness check says so, and the run still publishes.
        with pytest.raises(RunFailed, match="telemetry_fresh.*missing_days = 2024-01-02.*data published"):
            run_pipeline(data, db, report=False, days=("2024-01-01", "2024-01-02"), select=[ENERGY],
                         instance=instance)
        acc = _accounting(db)
        assert [(q[0], q[4]) for q in acc["quarantine"]] == [("gpu_samples", "2024-01-01 00:05:00")]
        assert query(db, "SELECT count(*) FROM audit.source_files "
                         "WHERE rows_read <> rows_staged + rows_quarantined + rows_pending") == [(0,)]
        assert query(db, "SELECT DISTINCT partition_day FROM staging.gpu_samples") == [(date(2024, 1, 1),)]
        first = first or acc
        assert acc == first
