"""A day's staging reads that day's telemetry files, not the whole history."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from lca_pipeline.runner import run_pipeline
from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import query

pytestmark = pytest.mark.slow


def _files_read(instance: dg.DagsterInstance, run_id: str, asset: str) -> int:
    event = next(e for e in instance.all_logs(run_id)
                 if e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
                 and e.dagster_event.asset_key.to_user_string() == asset)
    return event.dagster_event.materialization.metadata["files"].value


def test_a_new_days_staging_skips_files_staged_before_and_unchanged(tmp_path):
    data = tmp_path / "sample"
    generate_sample(data, days=3, interval_s=300)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.get()
    full = run_pipeline(data, db, report=False, instance=instance)
    assert _files_read(instance, full.run_id, "staging/gpu_samples") == 3
    before = query(db, "SELECT * FROM marts.stage_impacts ORDER BY ALL")

    # Day 3 again: only its own file is read; the tables are what the full run made.
    day = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-06", "2024-03-06"))
    assert _files_read(instance, day.run_id, "staging/gpu_samples") == 1
    assert query(db, "SELECT * FROM marts.stage_impacts ORDER BY ALL") == before
    balance = query(db, "SELECT count(*), sum(rows_pending) FROM audit.source_files WHERE input = 'gpu_samples'")
    assert balance == [(3, 0)]

    # A file changed since it was staged is read again, whatever day it held.
    first = data / "gpu_samples" / "part-2024-03-04.parquet"
    os.utime(first, (first.stat().st_atime, first.stat().st_mtime + 60))
    again = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-06", "2024-03-06"))
    assert _files_read(instance, again.run_id, "staging/gpu_samples") == 2


def test_a_file_back_after_its_day_was_restaged_without_it_is_read_again(tmp_path):
    data = tmp_path / "sample"
    generate_sample(data, days=2, interval_s=300)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.get()
    run_pipeline(data, db, report=False, instance=instance)
    before = query(db, "SELECT * FROM marts.stage_impacts ORDER BY ALL")
    part = data / "gpu_samples" / "part-2024-03-05.parquet"
    away = tmp_path / part.name
    part.rename(away)
    run_pipeline(data, db, report=False, instance=instance, days=("2024-03-05", "2024-03-05"))
    assert query(db, "SELECT count(*) FROM staging.gpu_samples WHERE partition_day = '2024-03-05'") == [(0,)]
    away.rename(part)  # same size and modification time as when it was staged
    back = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-05", "2024-03-05"))
    assert _files_read(instance, back.run_id, "staging/gpu_samples") == 1
    assert query(db, "SELECT * FROM marts.stage_impacts ORDER BY ALL") == before


def test_a_days_staging_leaves_files_of_other_days_unread_by_their_parquet_statistics(tmp_path):
    # All three days' files are there before any run (a backfill one day at a time): day 1's staging
    # reads only day 1's file, since the others' `ts` statistics lie outside the day.
    data = tmp_path / "sample"
    generate_sample(data, days=3, interval_s=300)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.get()
    for day, read in (("2024-03-04", 1), ("2024-03-05", 1), ("2024-03-06", 1)):
        run = run_pipeline(data, db, report=False, instance=instance, days=(day, day))
        assert _files_read(instance, run.run_id, "staging/gpu_samples") == read, day
    # Nothing is left pending and the tables are those of one run over the three days.
    assert query(db, "SELECT count(*), sum(rows_pending) FROM audit.source_files WHERE input = 'gpu_samples'") == [(3, 0)]
    full = run_pipeline(data, tmp_path / "full" / "lca.duckdb", report=False, instance=instance)
    assert query(db, "SELECT * FROM marts.stage_impacts ORDER BY ALL") == query(
        tmp_path / "full" / "lca.duckdb", "SELECT * FROM marts.stage_impacts ORDER BY ALL")
    assert _files_read(instance, full.run_id, "staging/gpu_samples") == 3


def test_a_file_with_a_missing_timestamp_is_read_by_every_days_staging(tmp_path):
    # A row without `ts` belongs to no day: every day's staging quarantines it again, so its file
    # cannot be skipped on statistics (they show the NULL).
    import pandas as pd

    data = tmp_path / "sample"
    generate_sample(data, days=2, interval_s=300)
    part = data / "gpu_samples" / "part-2024-03-05.parquet"
    frame = pd.read_parquet(part)
    frame.loc[0, "ts"] = None
    frame.to_parquet(part, index=False)
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.get()
    run = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-04", "2024-03-04"))
    assert _files_read(instance, run.run_id, "staging/gpu_samples") == 2
    assert query(db, "SELECT source_file LIKE '%part-2024-03-05.parquet', partition_day FROM audit.quarantine "
                     "WHERE input = 'gpu_samples' AND column_name = 'ts' AND reason = 'missing required value'") == [
        (True, None)]


def test_statistics_are_read_for_all_files_at_once_and_a_broken_footer_only_costs_its_own_file(tmp_path):
    # The footers are read in one query; one file whose footer is garbage makes that query fail, and
    # the files are then asked one by one: the broken one is read (and quarantined whole), the other
    # days' files are still left unread, a glob character in a name included.
    data = tmp_path / "sample"
    generate_sample(data, days=3, interval_s=300)
    folder = data / "gpu_samples"
    (folder / "part-2024-03-06.parquet").rename(folder / "part-[2024-03-06].parquet")
    (folder / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    db = tmp_path / "w" / "lca.duckdb"
    instance = dg.DagsterInstance.get()
    run = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-04", "2024-03-04"))
    assert _files_read(instance, run.run_id, "staging/gpu_samples") == 1
    quarantined = query(db, "SELECT source_file FROM audit.quarantine WHERE input = 'gpu_samples' "
                            "AND source_row IS NULL AND starts_with(reason, 'whole file quarantined')")
    assert [Path(p).name for (p,) in quarantined] == ["broken.parquet"]
    day3 = run_pipeline(data, db, report=False, instance=instance, days=("2024-03-06", "2024-03-06"))
    assert _files_read(instance, day3.run_id, "staging/gpu_samples") == 1
    assert query(db, "SELECT count(*) > 0 FROM staging.gpu_samples WHERE partition_day = '2024-03-06'") == [(True,)]
