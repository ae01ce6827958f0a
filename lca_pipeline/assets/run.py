"""The refresh's own steps: open the run record, convert importer folders, publish at the end.

They are assets of the job, so the UI, the schedule, the sensor, `dagster job execute` and `lca run`
all do exactly the same: the same tables, audit rows, manifest and published version.
"""


import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from .. import __version__, runlog, sql
from ..contract import OWNERS
from ..manifest import build_manifest
from ..materialize import report, table_metadata
from ..partitions import run_day_keys
from ..publish import publish, published_versions, restore_work
from ..resources import WAREHOUSE_TAGS, LcaResource, Warehouse

sql.register(
    "audit/create_runs", "audit/insert_run", "audit/delete_imports", "audit/insert_import",
    "audit/create_publications", "audit/insert_publication",
)

RUNS = dg.AssetKey(["audit", "runs"])
IMPORTS = dg.AssetKey(["audit", "imports"])
PUBLICATIONS = dg.AssetKey(["audit", "publications"])



def git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_days(context: dg.AssetExecutionContext) -> str:
    """The run's partition range as 'first..last' from its tags (the run itself is not partitioned)."""
    keys = run_day_keys(context.run.tags)
    return f"{keys[0]}..{keys[-1]}" if keys else ""


def sync_runs(conn: duckdb.DuckDBPyConnection, published: Path, override: dict[str, dict[str, Any]] | None = None) -> int:
    """Rebuild audit.runs from the run log (every run: success, failure, abandoned, running)."""
    conn.execute("DROP TABLE IF EXISTS audit.runs")
    sql.execute(conn, "audit/create_runs")
    rows = runlog.runs(published)
    for run in rows:
        run = {**run, **(override or {}).get(run["run_id"], {})}
        params = {f: run.get(f) for f in runlog.FIELDS}
        params["checks_failed"] = list(run.get("checks_failed") or [])
        sql.execute(conn, "audit/insert_run", params)
    return len(rows)


@dg.asset(
    op_tags=WAREHOUSE_TAGS,
    key=RUNS,
    group_name="audit",
    owners=OWNERS,
    code_version=sql.code_version(["audit/create_runs", "audit/insert_run"]),
    description="The run record: starts the work area from the published version and logs this run.",
    kinds={"duckdb"},
)
def runs(context: dg.AssetExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.MaterializeResult:
    """The run record: starts the work area from the published version and logs this run."""
    started = time.perf_counter()
    published = warehouse.published
    abandoned = runlog.mark_abandoned(published)
    storage = context.instance.event_log_storage
    for run_id in abandoned if storage.supports_global_concurrency_limits else ():
        # A killed run never gave back its concurrency slots, e.g. the publish pool's only one:
        # without this the next publish would wait for it forever.
        storage.free_concurrency_slots_for_run(run_id)
    busy = [r for r in runlog.running(published) if r["run_id"] != context.run_id]
    if busy:
        r = busy[-1]
        raise dg.Failure(
            f"another refresh is running: run {r['run_id']} (pid {r.get('pid')} on {r.get('host')}, "
            f"started {r.get('started_at')}); wait for it to finish"
        )
    settings = lca.settings()
    warehouse.release()
    restored = restore_work(published, warehouse.work)
    # What killed runs exported for their slices; no other refresh is running (checked above).
    shutil.rmtree(warehouse.work_dir / "parts" / "_runs", ignore_errors=True)
    runlog.append(
        published, "started", context.run_id,
        partition_range=run_days(context), launcher=context.run.tags.get("lca/launcher", "dagster"),
        pid=os.getpid(), host=socket.gethostname(), package_version=__version__, git_describe=git_describe(),
        settings_hash=settings.digest(), settings_source=settings.source, settings_json=settings.to_json(),
        data_dir=str(lca.data_root()),
    )
    with warehouse.connect() as conn:
        n = sync_runs(conn, published)
        md = table_metadata(conn, "audit.runs")
    report("audit.runs", n, started, f"(work area {'from ' + published.name if restored else 'new'})")
    return dg.MaterializeResult(metadata={
        **md, "restored_from": str(published) if restored else "nothing published yet",
        "abandoned_runs_found": dg.MetadataValue.json(abandoned),
    })


def prepare_imports(data_dir: Path, imported_dir: Path, options: dict) -> list[tuple[str, Any]]:
    """Convert importer-kind folders in the data directory (nvidia-smi/, sacct/, ...) into contract files."""
    from ..importers import detect_kind_folders, import_source

    found = detect_kind_folders(data_dir)
    if imported_dir.is_dir():
        shutil.rmtree(imported_dir)  # rebuilt from the exports every run, never edited by hand
    if not found:
        return []
    imported_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for kind, folder in found:
        result = import_source(kind, folder, imported_dir, options)
        files += [(kind, f) for f in result.files]
    return files


@dg.asset(
    op_tags=WAREHOUSE_TAGS,
    key=IMPORTS,
    deps=[RUNS],
    group_name="audit",
    owners=OWNERS,
    code_version=sql.code_version(["audit/delete_imports", "audit/insert_import"]),
    description="Real exports in importer folders (nvidia-smi/, sacct/, ...) converted to contract files.",
    kinds={"duckdb"},
)
def imports(context: dg.AssetExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.MaterializeResult:
    """Real exports in importer folders (nvidia-smi/, sacct/, ...) converted to contract files."""
    started = time.perf_counter()
    target = lca.imports_root() or warehouse.work_dir / "imported"
    converted = prepare_imports(lca.data_root(), target, lca.settings().importers)
    with warehouse.connect() as conn:
        conn.execute("BEGIN TRANSACTION")
        sql.execute(conn, "audit/delete_imports")
        for kind, f in converted:
            for output, path in sorted(f.outputs.items()):
                sql.execute(conn, "audit/insert_import", {
                    "run_id": context.run_id, "kind": kind, "source": str(Path(f.source).resolve()),
                    "sha256": f.sha256, "output_input": output, "output_path": str(Path(path).resolve()),
                    "rows_in": f.rows_in, "rows_out": f.rows_out, "rows_flagged": f.rows_flagged,
                    "rows_folded": f.rows_folded,
                    "rows_written": f.rows_written.get(output) if isinstance(f.rows_written, dict) else None,
                    "notes": list(f.notes),
                })
        conn.execute("COMMIT")
        md = table_metadata(conn, "audit.imports")
    report("audit.imports", md["dagster/row_count"], started)
    return dg.MaterializeResult(metadata=md)


def publications_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The last step: downstream of every table, so a failed blocking check anywhere stops it."""

    @dg.asset(
        op_tags=WAREHOUSE_TAGS,
        key=PUBLICATIONS,
        deps=upstream,
        group_name="audit",
        owners=OWNERS,
        code_version=sql.code_version(["audit/create_publications", "audit/insert_publication"]),
        description="Publishes the refreshed warehouse: one atomic rename once every blocking check passed.",
        kinds={"duckdb"},
        pool="lca_publish",
    )
    def publications(context: dg.AssetExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.MaterializeResult:
        """Publishes the refreshed warehouse: one atomic rename once every blocking check passed."""
        started = time.perf_counter()
        published = warehouse.published
        settings = lca.settings()
        finished = runlog.now_utc()
        manifest_work = warehouse.work_dir / "manifest.json"
        with warehouse.connect() as conn:
            conn.execute("BEGIN TRANSACTION")
            sync_runs(conn, published, {context.run_id: {"status": "success", "ended_at": finished.isoformat()}})
            sql.execute(conn, "audit/create_publications")
            sql.execute(conn, "audit/insert_publication", {
                "run_id": context.run_id, "published_at": finished, "partition_range": run_days(context),
                "settings_hash": settings.digest(),
            })
            conn.execute("COMMIT")
            manifest = build_manifest(conn, settings)
            rows = conn.execute("SELECT count(*) FROM audit.publications").fetchall()[0][0]
        manifest_work.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        warehouse.release()
        extras = {published.with_suffix(".manifest.json"): manifest_work}
        report_work = warehouse.work_dir / "report.html"
        if report_work.is_file():
            extras[published.parent / "report.html"] = report_work
        version = publish(published, warehouse.work, extras, settings.keep_versions)
        runlog.append(published, "published", context.run_id, version=version)
        report("audit.publications", rows, started, f"-> {published} ({version})")
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(rows),
            "version": version,
            "path": str(published),
            "bytes": published.stat().st_size,
            "versions_kept": len(published_versions(published)),
            "manifest_outputs": len(manifest["outputs"]),
        })

    return publications


@dg.failure_hook(required_resource_keys={"warehouse"})
def record_failure(context: dg.HookContext) -> None:
    """Every failed step goes into the run log, so the run's record names what failed."""
    error = context.op_exception
    message = str(error).strip().splitlines()[-1] if error and str(error).strip() else type(error).__name__
    runlog.append(context.resources.warehouse.published, "failed", context.run_id,
                  failure=f"{context.step_key}: {message}")
