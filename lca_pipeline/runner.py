"""`lca run` and `lca demo`: a thin launcher of the `lca_refresh` job on the days the data has.

Everything the refresh does (importer folders, run record, tables, checks, report, manifest,
publish) happens inside the job, so a run from the UI, the schedule or the sensor is the same run.
"""

from __future__ import annotations

import os
import time
from datetime import date
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

import duckdb

from . import runlog, sql
from .ingest import discover
from .inputs import INPUTS
from .manifest import manifest_path
from .partitions import data_days, register_days
from .resources import read_published
from .settings import load_settings

sql.register("explain/model_summary")

PROJECT_HOME = Path(".dagster_home")
# Runs launched by the daemon (schedule, sensor, UI) wait for each other: one writes the work area.
INSTANCE_YAML = """\
# Written by `lca`: the project-local Dagster instance that `lca run`, `dagster dev` and `dg dev` share.
telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: lca/refresh
        limit: 1
  pools:
    default_limit: 1
"""


class RunFailed(RuntimeError):
    """The pipeline ran but an asset or a blocking check failed; the message says which and why."""


@dataclass
class RunOutcome:
    run_id: str
    partition_range: tuple[str, str]
    seconds: float
    checks: list[tuple[str, bool]] = field(default_factory=list)
    manifest: Path | None = None
    version: str | None = None


def dagster_home() -> Path:
    """DAGSTER_HOME when set, else `.dagster_home` in the current folder (created with its dagster.yaml)."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    return home


def persistent_instance() -> dg.DagsterInstance:
    """The Dagster instance the UI reads, so runs, materialisations and checks of `lca` show there."""
    home = dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _first_failure(events: list[dg.DagsterEvent]) -> str | None:
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            err = event.event_specific_data.error
            while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError",):
                err = err.cause
            message = err.message.strip().splitlines()[-1] if err.message else err.cls_name
            return f"{event.step_key}: {message}"
    return None


def check_data_dir(data_dir: Path) -> None:
    """An empty data folder is a clear error naming it, never a run over an invented day."""
    from .importers import detect_kind_folders

    if not any(discover([data_dir], name) for name in INPUTS) and not detect_kind_folders(data_dir):
        raise FileNotFoundError(
            f"data directory {data_dir} has no input files: expected e.g. {data_dir}/jobs.csv or "
            f"{data_dir}/gpu_samples/*.parquet (docs/data-contract.md), or an importer folder such as "
            f"{data_dir}/nvidia-smi/ (docs/importers.md)"
        )


def job_for(data_dir: str, database: str, config_file: str | None, imported_dir: str, job_name: str,
            executor: str = "in_process", max_concurrent: int | None = None) -> dg.JobDefinition:
    """The job bound to one data folder and database, rebuilt the same way in each step process."""
    from .definitions import build_definitions

    return build_definitions(data_dir, database, config_file, imported_dir, executor,
                             max_concurrent).resolve_job_def(job_name)


def run_pipeline(
    data_dir: Path,
    db: Path,
    config: Path | None = None,
    imported_dir: Path | None = None,
    report: bool = True,
    days: tuple[str, str] | None = None,
    select: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
    launcher: str = "lca run",
    executor: str = "in_process",
    max_concurrent: int | None = None,
) -> RunOutcome:
    """Launch the refresh job over every day of data (or `days`) and wait for it."""
    from .definitions import build_definitions

    data_dir, db = Path(data_dir).resolve(), Path(db).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory not found: {data_dir} (create it or pass --data)")
    config = Path(config).resolve() if config is not None else None
    imported_dir = Path(imported_dir).resolve() if imported_dir is not None else db.parent / ".work" / "imported"
    # Validated here too, so a bad lca.toml is reported before anything runs; the job parses it once.
    settings = load_settings(config or data_dir / "lca.toml")
    check_data_dir(data_dir)
    defs = build_definitions(str(data_dir), str(db), str(config) if config else None, str(imported_dir),
                             executor, max_concurrent)
    instance = instance or persistent_instance()
    # Telemetry in importer folders has days only once converted: the job converts them on every run
    # (its imports step); before the first run, a preview conversion tells which days to run.
    from .importers import detect_kind_folders

    if detect_kind_folders(data_dir) and not imported_dir.is_dir():
        from .assets.run import prepare_imports

        prepare_imports(data_dir, imported_dir, settings.importers)
    found = data_days([data_dir, imported_dir] if imported_dir.is_dir() else [data_dir],
                      window=settings.data_window())
    if days is None:
        if not found:
            raise FileNotFoundError(f"{data_dir}: no telemetry and no job with a valid start date to run for")
        days = (min(found).isoformat(), max(found).isoformat())
    start, end = days
    register_days(instance, {date.fromisoformat(start), date.fromisoformat(end)} | found)
    job = defs.resolve_job_def("lca_refresh" if report else "lca_tables")
    run_id = str(uuid.uuid4())
    started = time.perf_counter()
    selection = None
    if select:
        from .assets.run import PUBLICATIONS, RUNS, IMPORTS

        keys = {dg.AssetKey(s.replace(".", "/").split("/")) for s in select} | {RUNS, IMPORTS, PUBLICATIONS}
        selection = sorted(keys, key=lambda k: k.to_user_string())
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end,
            "lca/launcher": launcher}
    run_config = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if executor == "in_process":
        events = job.execute_in_process(run_id=run_id, instance=instance, tags=tags, run_config=run_config,
                                        raise_on_error=False, asset_selection=selection).all_events
    else:
        # Step processes rebuild the job from these arguments (a reconstructable job).
        recon = dg.build_reconstructable_job(
            "lca_pipeline.runner", "job_for",
            reconstructable_args=(str(data_dir), str(db), str(config) if config else None, str(imported_dir),
                                  job.name, executor, max_concurrent))
        with dg.execute_job(recon, instance=instance, run_config=run_config, tags=tags,
                            raise_on_error=False, asset_selection=selection) as result:
            run_id, events = result.run_id, result.all_events
    checks = [
        (f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}",
         e.asset_check_evaluation_data.passed)
        for e in events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failure = _first_failure(events)
    failed_checks = [name for name, ok in checks if not ok]
    record = next((r for r in runlog.runs(db) if r["run_id"] == run_id), {})
    # A failed blocking check also fails its step; its evidence (site, zone, hours, cascaded rows)
    # says more than the step's name, so it makes the one line.
    check_failure = failure and any(name.split(":")[-1] in failure for name in failed_checks)
    if failure and not check_failure:
        raise RunFailed(f"{failure} (published data unchanged: {db})")
    if failed_checks:
        evidence = next((e.asset_check_evaluation_data.description for e in events
                         if e.event_type_value == "ASSET_CHECK_EVALUATION"
                         and not e.asset_check_evaluation_data.passed
                         and e.asset_check_evaluation_data.description), None)
        outcome = (f"published data unchanged: {db}" if check_failure
                   else "data published; see `lca status`")
        raise RunFailed(f"check failed: {', '.join(failed_checks)}"
                        + (f": {evidence}" if evidence else "") + f" ({outcome})")
    return RunOutcome(run_id, (start, end), time.perf_counter() - started, checks, manifest_path(db),
                      record.get("version"))


def model_summary(db: Path) -> list[tuple]:
    """(model, total kg CO2e, its p05 and p95, kg per 1,000 requests, break-even requests) per model."""
    with read_published(db) as conn:
        try:
            return sql.execute(conn, "explain/model_summary").fetchall()
        except duckdb.CatalogException:
            return []  # a run that selected assets without the life-cycle marts


def summary(db: Path) -> list[tuple[str, int]]:
    """Row counts of every table in the published database, in schema order."""
    with read_published(db) as conn:
        tables = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'intermediate', 'marts', 'audit') "
            "ORDER BY CASE table_schema WHEN 'staging' THEN 1 WHEN 'intermediate' THEN 2 "
            "WHEN 'marts' THEN 3 ELSE 4 END, table_name"
        ).fetchall()
        return [(t, conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for (t,) in tables]
