"""Incremental by construction: a run for one new day rebuilds only that day's hourly rows.

The hourly intermediates are partitioned by UTC day (partition_day). A run for day 2 after a run
for day 1 must give the same tables as one run over both days, and must leave day 1's rows alone
except the hour(s) that day 2's telemetry reaches back into (an interval ending after midnight is
keyed to day 2 but lies partly in day 1's last hour; see partitions.hourly_window).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lca_pipeline.runner import run_pipeline
from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import query

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

D1, D2 = "2024-03-04", "2024-03-05"
# The last hour of day 1: day 2's telemetry reaches back into it (intervals ending at or after
# midnight, up to max_gap_s = 300 s long in the sample), so a day-2 run rebuilds it.
LOOKBACK = datetime(2024, 3, 5) - timedelta(hours=1)
PARTITIONED = (
    "intermediate.allocation_hourly",
    "intermediate.gpu_hourly",
    "intermediate.host_other_hourly",
    "intermediate.job_level_hourly",
    "intermediate.energy_ledger_hourly",
    "intermediate.site_hourly",
    "intermediate.grid_hourly",
)
COMPARED = (
    "intermediate.telemetry_energy_hourly",
    *PARTITIONED,
    "intermediate.impacts_hourly",
    "intermediate.job_tiers",
    "marts.stage_impacts",
    "marts.job_impacts",
    "marts.fleet_daily",
    "marts.energy_coverage",
    "marts.site_hourly_impacts",
)
# Columns that only label a row: changing them in the published file marks a row without changing
# any number a check or a later run computes from.
MARKERS = {
    "intermediate.gpu_hourly": "method",
    "intermediate.host_other_hourly": "method",
    "intermediate.site_hourly": "site_source_file",
    "intermediate.grid_hourly": "source",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("incremental") / "sample"
    generate_sample(data, days=2, interval_s=300)
    return data


def _copy(sample: Path, tmp_path: Path, matching: str | None = None) -> Path:
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    if matching:
        toml = data / "lca.toml"
        toml.write_text(toml.read_text() + f'\n[market]\nmatching = "{matching}"\n')
    return data


def _rows(db: Path, table: str) -> list[tuple]:
    return query(db, f"SELECT * FROM {table} ORDER BY ALL")


def _run(data: Path, db: Path, days: tuple[str, str] | None, instance: dg.DagsterInstance):
    outcome = run_pipeline(data, db, report=False, days=days, instance=instance)
    assert outcome.version, f"run for {days} did not publish"
    return outcome


@pytest.mark.parametrize("matching", [None, "monthly"])
def test_day_by_day_equals_one_run_over_both_days(sample, tmp_path, matching):
    data = _copy(sample, tmp_path, matching)
    full_db = tmp_path / "full" / "lca.duckdb"
    _run(data, full_db, None, dg.DagsterInstance.ephemeral())
    daily_db = tmp_path / "daily" / "lca.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    _run(data, daily_db, (D1, D1), instance)
    _run(data, daily_db, (D2, D2), instance)
    for table in COMPARED:
        full = _rows(full_db, table)
        assert full, f"{table} is empty: the comparison would prove nothing"
        assert _rows(daily_db, table) == full, table
    for table in PARTITIONED:
        days = [str(d) for (d,) in query(full_db, f"SELECT DISTINCT partition_day FROM {table} ORDER BY 1")]
        assert days == [D1, D2], table


def test_day_two_run_leaves_day_one_rows_alone(sample, tmp_path):
    data = _copy(sample, tmp_path)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    first = _run(data, db, (D1, D1), instance)
    before = {t: query(db, f"SELECT partition_day, count(*) FROM {t} GROUP BY 1 ORDER BY 1") for t in PARTITIONED}
    for table, counts in before.items():
        assert [str(d) for d, _ in counts] == [D1], f"{table}: a day-1 run wrote rows outside day 1"
    # Mark day 1's rows in the published file; a run that rewrote them would drop the marks.
    with duckdb.connect(str(db)) as conn:
        for table, column in MARKERS.items():
            conn.execute(f"UPDATE {table} SET {column} = 'untouched' WHERE partition_day = ?", [D1])
        conn.execute("CHECKPOINT")
    second = _run(data, db, (D2, D2), instance)
    for table, column in MARKERS.items():
        kept = query(db, f"SELECT bool_and({column} = 'untouched'), count(*) FROM {table} "
                         f"WHERE partition_day = ? AND hour_start < ?", [D1, LOOKBACK])[0]
        assert kept[1] > 0 and kept[0], f"{table}: day 1's rows before {LOOKBACK} were rewritten"
        redone = query(db, f"SELECT count(*) FILTER (WHERE {column} = 'untouched'), count(*) FROM {table} "
                           f"WHERE hour_start >= ?", [LOOKBACK])[0]
        assert redone[1] > 0 and redone[0] == 0, f"{table}: day 2's rows (and day 1's last hour) were not rebuilt"
    for table in PARTITIONED:
        after = query(db, f"SELECT partition_day, count(*) FROM {table} GROUP BY 1 ORDER BY 1")
        assert after[0] == before[table][0], f"{table}: day 1's row count changed"
        assert [str(d) for d, _ in after] == [D1, D2], table
        # Dagster's record agrees: day 1 was last materialised by the first run, day 2 by the second.
        key = dg.AssetKey(table.split("."))
        for day, run in ((D1, first), (D2, second)):
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1).records
            assert records and records[0].run_id == run.run_id, f"{table} partition {day}"


def test_warehouse_built_before_partitioning_is_completed_by_a_one_day_run(sample, tmp_path):
    data = _copy(sample, tmp_path)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    _run(data, db, None, instance)
    before = {t: _rows(db, t) for t in ("marts.stage_impacts", "marts.fleet_daily")}
    # The tables as an earlier version left them: no partition_day.
    with duckdb.connect(str(db)) as conn:
        for table in PARTITIONED:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN partition_day")
        conn.execute("CHECKPOINT")
    _run(data, db, (D2, D2), instance)
    for table in PARTITIONED:
        days = [str(d) for (d,) in query(db, f"SELECT DISTINCT partition_day FROM {table} ORDER BY 1")]
        assert days == [D1, D2], f"{table}: the day outside the run was lost"
    assert {t: _rows(db, t) for t in before} == before
