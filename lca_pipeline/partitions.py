"""Day partitions: telemetry and its hourly rollups are partitioned by UTC day.

The partitions are the days the data has (dynamic partitions, added by the launcher, the sensor and
the schedule), so history from any year can be loaded and the UI lists only days that exist.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from .ingest import discover

DAYS = dg.DynamicPartitionsDefinition(name="days")
SINGLE_RUN = dg.BackfillPolicy.single_run()
TELEMETRY_INPUTS = ("gpu_samples", "node_samples", "gpu_energy_minutes")


def day_key(day: date) -> str:
    return day.isoformat()


def window_of(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """[first day, day after the last) of the run's partition range, as naive UTC datetimes."""
    keys = context.partition_key_range
    start = datetime.fromisoformat(keys.start)
    end = datetime.fromisoformat(keys.end) + timedelta(days=1)
    return min(start, end - timedelta(days=1)), max(end, start + timedelta(days=1))


def file_days(conn: duckdb.DuckDBPyConnection, path: Path) -> tuple[date, date] | None:
    """First and last UTC day of one telemetry file, from its ts column (Parquet: statistics)."""
    if path.suffix.lower() == ".parquet":
        rel = conn.read_parquet(str(path))
    else:
        rel = conn.read_csv(str(path), all_varchar=True, header=True)
    cols = {c.strip().lower(): c for c in rel.columns}
    if "ts" not in cols:
        return None  # staging reports the missing column with the file's name
    col = duckdb.ColumnExpression(cols["ts"])
    ts = col.cast(duckdb.sqltype("VARCHAR"))
    # A typed TIMESTAMP column is UTC already: min/max come from the Parquet statistics.
    utc = (f"CASE WHEN typeof({col}) = 'TIMESTAMP' THEN CAST({col} AS TIMESTAMP) "
           f"ELSE timezone('UTC', TRY_CAST({ts} AS TIMESTAMPTZ)) END")
    lo, hi = rel.aggregate(f"min({utc}), max({utc})").fetchall()[0]
    if lo is None:
        return None
    return lo.date(), hi.date()


def _job_days(conn: duckdb.DuckDBPyConnection, dirs: list[Path]) -> set[date]:
    """Without telemetry, the first job day keeps the partitioned tables defined."""
    first: date | None = None
    for path in discover(dirs, "jobs"):
        rel = conn.read_csv(str(path), all_varchar=True, header=True) if path.suffix == ".csv" else conn.read_parquet(str(path))
        cols = {c.strip().lower(): c for c in rel.columns}
        if "start" in cols:
            col = duckdb.ColumnExpression(cols["start"]).cast(duckdb.sqltype("VARCHAR"))
            value = rel.aggregate(f"min(timezone('UTC', TRY_CAST({col} AS TIMESTAMPTZ)))").fetchall()[0][0]
            if value is not None:
                first = value.date() if first is None else min(first, value.date())
    return {first} if first else set()


def data_days(dirs: list[Path], paths: list[Path] | None = None) -> set[date]:
    """UTC days covered by telemetry files (all, or only `paths`); job days when there is none."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    try:
        files = paths if paths is not None else [p for name in TELEMETRY_INPUTS for p in discover(dirs, name)]
        days: set[date] = set()
        for path in files:
            span = file_days(conn, path)
            if span:
                days.update(span[0] + timedelta(days=i) for i in range((span[1] - span[0]).days + 1))
        if not days and paths is None:
            days = _job_days(conn, dirs)
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
