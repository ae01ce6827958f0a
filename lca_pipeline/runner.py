"""Runs the whole pipeline in-process for one data directory: what `lca run` and `lca demo` do."""

from __future__ import annotations

import logging
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb

from . import __version__, sql
from .ingest import discover, try_read
from .manifest import manifest_path, write_manifest
from .materialize import ensure_schemas
from .resources import connection_config, make_duckdb, open_connection
from .settings import load_settings

log = logging.getLogger("lca.run")
sql.register("audit/insert_run", "audit/finish_run", "audit/delete_imports", "audit/insert_import")

TELEMETRY_INPUTS = ("gpu_samples", "node_samples")


class RunFailed(RuntimeError):
    """The pipeline ran but an asset or a blocking check failed; the message says which and why."""


@dataclass
class RunOutcome:
    run_id: str
    partition_range: tuple[str, str]
    seconds: float
    checks: list[tuple[str, bool]] = field(default_factory=list)
    manifest: Path | None = None


def telemetry_days(data_dirs: list[Path], window: tuple[datetime, datetime] | None = None
                   ) -> tuple[date, date] | None:
    """First and last UTC day of telemetry in the data, read from the files' ts column."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    lo: datetime | None = None
    hi: datetime | None = None
    for name in TELEMETRY_INPUTS:
        for path in discover(data_dirs, name):
            rel = try_read(conn, path, data_dirs)  # unreadable files are quarantined by staging
            if rel is None:
                continue
            cols = {c.strip().lower(): c for c in rel.columns}
            if "ts" not in cols:
                continue  # staging reports the missing column with the file's name
            col = duckdb.ColumnExpression(cols["ts"])
            ts = col.cast(duckdb.sqltype("VARCHAR"))
            # A typed TIMESTAMP column is UTC already: min/max come from the Parquet statistics.
            utc = (f"CASE WHEN typeof({col}) = 'TIMESTAMP' THEN CAST({col} AS TIMESTAMP) "
                   f"ELSE timezone('UTC', TRY_CAST({ts} AS TIMESTAMPTZ)) END")
            # Rows outside the [data] window are quarantined by staging and open no partition.
            keep = f"FILTER (WHERE {utc} >= $s AND {utc} < $e)"
            s, e = window or (datetime(1, 1, 1), datetime(9999, 1, 1))
            try:
                rel.create_view("_telemetry", replace=True)
                row = conn.execute(f"SELECT min({utc}) {keep}, max({utc}) {keep} FROM _telemetry",
                                   {"s": s, "e": e}).fetchall()[0]
            except duckdb.Error:
                continue  # a file broken past its header: staging quarantines it with the line
            if row[0] is not None:
                lo = row[0] if lo is None else min(lo, row[0])
                hi = row[1] if hi is None else max(hi, row[1])
    conn.close()
    if lo is None:
        return None
    return lo.date(), hi.date()


def git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _first_failure(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            err = event.event_specific_data.error
            while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError",):
                err = err.cause
            message = err.message.strip().splitlines()[-1] if err.message else err.cls_name
            return f"{event.step_key}: {message}"
    return None


def run_pipeline(
    data_dir: Path,
    db: Path,
    config: Path | None = None,
    imported_dir: Path | None = None,
    report: bool = True,
) -> RunOutcome:
    """Stage every input and materialise every asset for every day of telemetry present."""
    from .definitions import build_definitions

    data_dir, db = Path(data_dir).resolve(), Path(db).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory not found: {data_dir} (create it or pass --data)")
    config = Path(config).resolve() if config is not None else data_dir / "lca.toml"
    settings = load_settings(config)  # fail early, before any table is touched
    imported_dir = imported_dir if imported_dir is not None else db.parent / "imported"
    imports = prepare_imports(data_dir, imported_dir, settings.importers)
    dirs = [data_dir] + ([imported_dir] if imported_dir.is_dir() else [])
    days = telemetry_days(dirs, settings.data_window()) or _job_days(dirs)
    start, end = (d.isoformat() for d in days)

    defs = build_definitions(str(data_dir), str(db), str(config), str(imported_dir))
    run_id = str(uuid.uuid4())
    started = time.perf_counter()
    db.parent.mkdir(parents=True, exist_ok=True)
    with open_connection(make_duckdb(str(db))) as conn:
        ensure_schemas(conn)
        sql.execute(conn, "audit/insert_run", {
            "run_id": run_id,
            "started_at": datetime.now(timezone.utc).replace(tzinfo=None),
            "package_version": __version__,
            "git_describe": git_describe(),
            "settings_hash": settings.digest(),
            "settings_source": settings.source,
            "settings_json": settings.to_json(),
            "data_dir": str(data_dir),
            "partition_range": f"{start}..{end}",
        })
        sql.execute(conn, "audit/delete_imports")
        for kind, f in imports:
            for output, path in sorted(f.outputs.items()):
                sql.execute(conn, "audit/insert_import", {
                    "run_id": run_id, "kind": kind, "source": str(f.source), "sha256": f.sha256,
                    "output_input": output, "output_path": str(path), "rows_in": f.rows_in,
                    "rows_out": f.rows_out, "rows_flagged": f.rows_flagged, "rows_folded": f.rows_folded,
                    "rows_written": f.rows_written.get(output) if isinstance(f.rows_written, dict) else None,
                    "notes": list(f.notes),
                })
    job = defs.resolve_job_def("lca_refresh" if report else "lca_tables")
    # Holding one connection open keeps the database loaded between assets: each asset's own
    # connection then attaches in microseconds instead of reopening and checkpointing the file.
    keeper = duckdb.connect(str(db), config={"custom_user_agent": "dagster", **connection_config(str(db))})
    try:
        result = job.execute_in_process(
            run_id=run_id,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
        )
    finally:
        keeper.close()
    checks = [
        (f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}",
         e.asset_check_evaluation_data.passed)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failure = _first_failure(result)
    failed_checks = [name for name, ok in checks if not ok]
    status = "success" if result.success and not failed_checks else "failure"
    with open_connection(make_duckdb(str(db))) as conn:
        sql.execute(conn, "audit/finish_run", {
            "run_id": run_id,
            "ended_at": datetime.now(timezone.utc).replace(tzinfo=None),
            "status": status,
        })
    # A failed blocking check also fails its step; its evidence (site, zone, hours, cascaded rows)
    # says more than the step's name, so it makes the one line.
    check_failure = failure and any(name.split(":")[-1] in failure for name in failed_checks)
    if failure and not check_failure:
        raise RunFailed(failure)
    if failed_checks:
        evidence = next((e.asset_check_evaluation_data.description for e in result.all_events
                         if e.event_type_value == "ASSET_CHECK_EVALUATION"
                         and not e.asset_check_evaluation_data.passed
                         and e.asset_check_evaluation_data.description), None)
        raise RunFailed(f"check failed: {', '.join(failed_checks)}"
                        + (f": {evidence}" if evidence else " (see the Dagster UI or audit tables)"))
    with open_connection(make_duckdb(str(db))) as conn:
        manifest = write_manifest(conn, settings, manifest_path(db))
    log.info("manifest: %d inputs, %d outputs", len(manifest["inputs"]), len(manifest["outputs"]))
    return RunOutcome(run_id, (start, end), time.perf_counter() - started, checks, manifest_path(db))


def _job_days(dirs: list[Path]) -> tuple[date, date]:
    """Without telemetry, one partition on the first job day keeps the partitioned tables defined."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    first: date | None = None
    for path in discover(dirs, "jobs"):
        rel = try_read(conn, path, dirs)
        if rel is None:
            continue
        cols = {c.strip().lower(): c for c in rel.columns}
        if "start" in cols:
            col = duckdb.ColumnExpression(cols["start"]).cast(duckdb.sqltype("VARCHAR"))
            try:
                value = rel.aggregate(f"min(timezone('UTC', TRY_CAST({col} AS TIMESTAMPTZ)))").fetchall()[0][0]
            except duckdb.Error:
                continue
            if value is not None:
                first = value.date() if first is None else min(first, value.date())
    conn.close()
    day = first or date(2020, 1, 1)
    return day, day


def prepare_imports(data_dir: Path, imported_dir: Path, options: dict) -> list[tuple[str, object]]:
    """Convert importer-kind folders in the data directory (nvidia-smi/, sacct/, ...) into contract files."""
    import shutil

    from .importers import detect_kind_folders, import_source

    found = detect_kind_folders(data_dir)
    if imported_dir.is_dir():
        shutil.rmtree(imported_dir)  # rebuilt from the exports every run, never edited by hand
    if not found:
        return []
    imported_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for kind, folder in found:
        log.info("importing %s from %s", kind, folder)
        result = import_source(kind, folder, imported_dir, options)
        files += [(kind, f) for f in result.files]
    return files


def summary(db: Path) -> list[tuple[str, int]]:
    """Row counts of every table the run wrote, in schema order."""
    with open_connection(make_duckdb(str(db))) as conn:
        tables = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'intermediate', 'marts', 'audit') "
            "ORDER BY CASE table_schema WHEN 'staging' THEN 1 WHEN 'intermediate' THEN 2 "
            "WHEN 'marts' THEN 3 ELSE 4 END, table_name"
        ).fetchall()
        return [(t, conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for (t,) in tables]
