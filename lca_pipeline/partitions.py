"""Day partitions: telemetry and its hourly rollups are partitioned by UTC day.

The partitions are the days the data has (dynamic partitions, added by the launcher, the sensor and
the schedule), so history from any year can be loaded and the UI lists only days that exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from .ingest import discover, try_read

DAYS = dg.DynamicPartitionsDefinition(name="days")
SINGLE_RUN = dg.BackfillPolicy.single_run()
# No [data] window given: every timestamp counts.
_ALL_TIME = (datetime(1, 1, 1), datetime(9999, 1, 1))
TELEMETRY_INPUTS = ("gpu_samples", "node_samples", "gpu_energy_minutes")


def day_key(day: date) -> str:
    return day.isoformat()


def run_day_keys(tags: Mapping[str, str]) -> list[str]:
    """Every day key a run covers, from its partition tags (one key, a range, or none)."""
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    if not start:
        return []
    first = date.fromisoformat(start)
    last = date.fromisoformat(tags.get("dagster/asset_partition_range_end") or start)
    return [day_key(first + timedelta(days=i)) for i in range((last - first).days + 1)]


def window_of(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> tuple[datetime, datetime]:
    """[first day, day after the last) of the run's partition range, as naive UTC datetimes."""
    keys = context.partition_key_range
    start = datetime.fromisoformat(keys.start)
    end = datetime.fromisoformat(keys.end) + timedelta(days=1)
    return min(start, end - timedelta(days=1)), max(end, start + timedelta(days=1))


def telemetry_reach(start: datetime, max_gap_s: float) -> datetime:
    """The first UTC hour a telemetry partition starting at `start` has rows for.

    An interval belongs to the day of its end but can begin up to max_gap_s earlier, so the day's
    partition of intermediate.telemetry_energy_hourly also holds pieces of the hour(s) before midnight.
    """
    return (start - timedelta(seconds=max_gap_s)).replace(minute=0, second=0, microsecond=0)


def hourly_window(context: dg.AssetExecutionContext, max_gap_s: float) -> tuple[datetime, datetime]:
    """The hours a run rebuilds in the hourly tables built from other tables.

    Its days, from the first hour their telemetry reaches (telemetry_reach). The partitions are the
    telemetry days, but jobs and allocations also fall before the first or after the last: a run of
    the first known day also owns every hour before it, one of the last every hour after it, so no
    estimated job is left out of every partition (days between partitions lie in a range run's window).
    """
    start, end = window_of(context)
    first = telemetry_reach(start, max_gap_s)
    known = context.instance.get_dynamic_partitions(DAYS.name)
    keys = context.partition_key_range
    if not known or keys.start <= known[0]:
        first = _ALL_TIME[0]
    if not known or keys.end >= known[-1]:
        end = _ALL_TIME[1]
    return first, end


def file_days(conn: duckdb.DuckDBPyConnection, path: Path, dirs: list[Path],
              window: tuple[datetime, datetime] | None = None) -> tuple[date, date] | None:
    """First and last UTC day of one telemetry file inside the [data] window, from its ts column."""
    rel = try_read(conn, path, dirs)  # an unreadable file opens no day: staging quarantines it
    if rel is None:
        return None
    cols = {c.strip().lower(): c for c in rel.columns}
    if "ts" not in cols:
        return None  # staging reports the missing column with the file's name
    col = duckdb.ColumnExpression(cols["ts"])
    ts = col.cast(duckdb.sqltype("VARCHAR"))
    # A typed TIMESTAMP column is UTC already: min/max come from the Parquet statistics.
    utc = (f"CASE WHEN typeof({col}) = 'TIMESTAMP' THEN CAST({col} AS TIMESTAMP) "
           f"ELSE timezone('UTC', TRY_CAST({ts} AS TIMESTAMPTZ)) END")
    # Rows outside the [data] window are quarantined by staging and open no partition.
    keep = f"FILTER (WHERE {utc} >= $s AND {utc} < $e)"
    s, e = window or _ALL_TIME
    try:
        rel.create_view("_telemetry", replace=True)
        lo, hi = conn.execute(f"SELECT min({utc}) {keep}, max({utc}) {keep} FROM _telemetry",
                              {"s": s, "e": e}).fetchall()[0]
    except duckdb.Error:
        return None  # a file broken past its header: staging quarantines it with the line
    if lo is None:
        return None
    return lo.date(), hi.date()


def _job_days(conn: duckdb.DuckDBPyConnection, dirs: list[Path],
              window: tuple[datetime, datetime] | None) -> set[date]:
    """Without telemetry, the first job day (inside the [data] window) keeps the partitioned tables defined."""
    first: date | None = None
    s, e = window or _ALL_TIME
    for path in discover(dirs, "jobs"):
        rel = try_read(conn, path, dirs)
        if rel is None:
            continue
        cols = {c.strip().lower(): c for c in rel.columns}
        if "start" in cols:
            col = duckdb.ColumnExpression(cols["start"]).cast(duckdb.sqltype("VARCHAR"))
            utc = f"timezone('UTC', TRY_CAST({col} AS TIMESTAMPTZ))"
            try:
                rel.create_view("_jobs", replace=True)
                value = conn.execute(f"SELECT min({utc}) FILTER (WHERE {utc} >= $s AND {utc} < $e) FROM _jobs",
                                     {"s": s, "e": e}).fetchall()[0][0]
            except duckdb.Error:
                continue
            if value is not None:
                first = value.date() if first is None else min(first, value.date())
    return {first} if first else set()


def data_days(dirs: list[Path], paths: list[Path] | None = None,
              window: tuple[datetime, datetime] | None = None) -> set[date]:
    """UTC days covered by telemetry files (all, or only `paths`); job days when there is none."""
    from .resources import scratch

    conn = scratch()
    try:
        files = paths if paths is not None else [p for name in TELEMETRY_INPUTS for p in discover(dirs, name)]
        days: set[date] = set()
        for path in files:
            span = file_days(conn, path, dirs, window)
            if span:
                days.update(span[0] + timedelta(days=i) for i in range((span[1] - span[0]).days + 1))
        if not days and paths is None:
            days = _job_days(conn, dirs, window)
        return days
    finally:
        conn.close()


def register_days(instance: dg.DagsterInstance, days: set[date]) -> list[str]:
    """Add the days as partitions, keeping the partition list in date order (ranges stay contiguous)."""
    have = instance.get_dynamic_partitions(DAYS.name)
    wanted = sorted(set(have) | {day_key(d) for d in days})
    if wanted == have:
        return have
    if have and wanted[: len(have)] != have or have != sorted(have):
        # A late day before the newest one: re-add all in order. Materialisations are keyed by the
        # partition's name, so the history of each day survives.
        for key in have:
            instance.delete_dynamic_partition(DAYS.name, key)
        instance.add_dynamic_partitions(DAYS.name, wanted)
    else:
        instance.add_dynamic_partitions(DAYS.name, wanted[len(have):])
    return wanted
