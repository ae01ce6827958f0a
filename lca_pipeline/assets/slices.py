"""Telemetry integration fanned out: one step per (day, site) slice, each writing a Parquet partition.

Reading every sample again to integrate energy is the heaviest work of a refresh, and each (day,
site) slice of it is independent. So the asset is a graph of three ops:

    plan   (warehouse)  which slices the window has; exports the small tables a slice needs
    slice  (no warehouse, mapped)  integrates one slice from the raw files into
                        .work/parts/<table>/day=<D>/site=<S>.parquet
    load   (warehouse)  replaces the window's rows of the table with those partitions

With the in-process executor the slices run one after the other. With the multiprocess executor
(`lca run --executor multiprocess`), dagster-k8s's `k8s_job_executor` or dagster-celery they are
separate processes or pods in parallel, because a slice opens no DuckDB file but its own in-memory
one: the work database keeps one writer (steps tagged `lca/warehouse`, limited to one at a time).
"""


import os
import re
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from .. import sql
from ..contract import OWNERS
from ..ingest import (duplicate_rows, progress, record_duplicates, summary_as_staged, table_exists,
                      validated_ctes)
from ..materialize import load_window, report, table_metadata
from ..partitions import DAYS, SINGLE_RUN, window_of
from ..resources import WAREHOUSE_TAGS, LcaResource, Warehouse, scratch
from .models import Model, sql_deps

# The slice of a day when hosts name no site: every host.
_ALL_SITES = "_all"


def _mapping_key(day: date, site: str, index: int) -> str:
    # Dagster mapping keys allow [A-Za-z0-9_]; the index keeps two sites that differ only in
    # punctuation apart.
    return f"d{day:%Y%m%d}_{re.sub(r'[^A-Za-z0-9_]', '_', site)[:40]}_{index}"


def parts_dir(warehouse: Warehouse, table: str) -> Path:
    """Where a table's per-(day, site) Parquet partitions live in the work area."""
    return warehouse.work_dir / "parts" / table


def _plan_op(model: Model, ins: dict[str, dg.In]) -> dg.OpDefinition:
    inputs = model.reads_files

    @dg.op(name=f"{model.table.replace('.', '__')}__plan", ins=ins, out=dg.DynamicOut(dict),
           tags=WAREHOUSE_TAGS)
    def _plan(context: dg.OpExecutionContext, warehouse: Warehouse, lca: LcaResource):
        started = time.perf_counter()
        start, end = window_of(context)
        # What a slice needs from the warehouse, exported once per run: the hosts, the staging
        # summaries (which file has rows of which day and host), the files' hashes and the
        # duplicate-key quarantine.
        shared = warehouse.work_dir / "parts" / "_runs" / context.run_id / model.table
        shared.mkdir(parents=True, exist_ok=True)
        # As far back as a slice looks for the sample before its first (ingest.validated_ctes).
        look_back = start - timedelta(seconds=float(lca.settings().max_gap_s) + 60)
        with warehouse.connect() as conn:
            exports = {"staging.hosts": "SELECT * FROM staging.hosts ORDER BY host"}
            for name in inputs:
                if table_exists(conn, f"staging.{name}"):
                    exports[f"staging.{name}"] = (
                        f"SELECT * FROM ({summary_as_staged(name)}) ORDER BY partition_day, source_file, host")
            exports["audit.quarantine"] = (
                "SELECT input, reason, partition_day FROM audit.quarantine WHERE list_contains($inputs, input) "
                "AND starts_with(reason, 'duplicate key') AND partition_day >= CAST($s AS DATE) "
                "AND partition_day < CAST($e AS DATE)")
            # The files' hashes as staged: a slice checks each file it reads against them.
            exports["audit.source_files"] = (
                "SELECT * FROM audit.source_files WHERE list_contains($inputs, input) ORDER BY input, path")
            for table, query in exports.items():
                params = sql.params_in(query, {"s": look_back, "e": end, "inputs": list(inputs),
                                               "input": table.split(".")[-1]})
                conn.sql(query, params=params).write_parquet(str(shared / f"{table}.parquet"))
            sites = [s for (s,) in conn.execute(
                "SELECT DISTINCT site FROM staging.hosts WHERE site IS NOT NULL ORDER BY site").fetchall()]
        days = [(start + timedelta(days=i)).date() for i in range((end - start).days)]
        # Every (day, site) pair is a slice, so each slice's partition file is replaced on a re-run
        # even when it has no rows now; without sites one slice per day covers every host.
        report(model.table, 0, started, f"({len(days) * max(len(sites), 1)} slices planned)")
        index = 0
        for day in days:
            for site in sites or [_ALL_SITES]:
                index += 1
                yield dg.DynamicOutput({"day": day.isoformat(), "site": site, "shared": str(shared)},
                                       mapping_key=_mapping_key(day, site, index))

    return _plan


def integrate_slice(model: Model, day: date, site: str, shared: Path, out_dir: Path, lca: LcaResource,
                    run_id: str) -> tuple[Path, int, Path | None]:
    """Run the model's statement for one day and one site's hosts, writing one Parquet file, and,
    when it found duplicate samples, their quarantine rows in another (in the run's folder)."""
    spill = out_dir.parent / ".spill" / f"{day.isoformat()}-{os.getpid()}"
    conn = scratch(spill)
    try:
        conn.execute("CREATE SCHEMA staging")
        conn.execute("CREATE SCHEMA audit")
        for path in sorted(shared.glob("*.parquet")):
            table = path.stem
            conn.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet($p, hive_partitioning = false)",
                         {"p": str(path)})
        if site != _ALL_SITES:
            # Rows of other sites' hosts fail the staging join ("unknown host") and are not valid
            # here: the slice integrates its own hosts only, and reads only files that have them.
            conn.execute("DELETE FROM staging.hosts WHERE site IS DISTINCT FROM $s", {"s": site})
            for name in model.reads_files:
                if table_exists(conn, f"staging.{name}"):
                    conn.execute(f"DELETE FROM staging.{name} WHERE host NOT IN (SELECT host FROM staging.hosts)")
        start = datetime.combine(day, datetime.min.time())
        end = start + timedelta(days=1)
        params = {**lca.settings().sql_params(), "run_id": run_id, "asset": model.table}
        for name in model.reads_files:
            if not table_exists(conn, f"staging.{name}"):
                # Never staged (no such input anywhere): an empty summary, so the statement reads nothing.
                conn.execute(f"CREATE TABLE staging.{name} (partition_day DATE, source_file VARCHAR, host VARCHAR)")
        exact = False
        while True:
            ctes, bound = validated_ctes(conn, model.reads_files, lca.data_dirs(), params, start, end, exact)
            text = sql.with_ctes(model.sql_name, ctes)
            conn.execute(f"CREATE OR REPLACE TEMP TABLE _slice AS {text}",
                         sql.params_in(text, {**bound, "window_start": start, "window_end": end}))
            if bound["find_duplicates"]:
                break
            # Almost always 0: the statement counts duplicate samples as it sorts them. When there are
            # any, it runs again keeping the first of each by file and row, and they are quarantined.
            if not conn.execute("SELECT sum(duplicate_samples) FROM _slice").fetchall()[0][0]:
                break
            exact = True
        duplicates = None
        if bound["find_duplicates"]:
            duplicates = shared / "duplicates" / f"day={day.isoformat()}-site={site}.parquet"
            duplicates.parent.mkdir(parents=True, exist_ok=True)
            found = duplicate_rows(conn, model.reads_files, bound, start, end)
            found.write_parquet(str(duplicates))
            n = conn.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(duplicates)}).fetchall()[0][0]
            if n:
                progress.warning("%s: %d duplicate sample(s) on %s (site %s) quarantined; the first of each "
                                 "by file and row is kept", model.table, n, day, site)
        rows = conn.execute("SELECT count(*) FROM _slice").fetchall()[0][0]
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"site={site}.parquet"
        # Written beside the target and renamed: a killed slice never leaves half a partition.
        tmp = out_dir / f".{target.name}.{os.getpid()}.tmp"
        conn.sql("SELECT * EXCLUDE (duplicate_samples) FROM _slice").write_parquet(str(tmp))
        os.replace(tmp, target)
        return target, int(rows), duplicates
    finally:
        conn.close()
        shutil.rmtree(spill, ignore_errors=True)


def _slice_op(model: Model) -> dg.OpDefinition:
    @dg.op(name=f"{model.table.replace('.', '__')}__slice")
    def _slice(context: dg.OpExecutionContext, lca: LcaResource, warehouse: Warehouse, part: dict) -> dict:
        # `warehouse` is only asked for paths here: a slice never opens the work database.
        started = time.perf_counter()
        day = date.fromisoformat(part["day"])
        out_dir = parts_dir(warehouse, model.table) / f"day={day.isoformat()}"
        path, rows, duplicates = integrate_slice(model, day, part["site"], Path(part["shared"]), out_dir, lca,
                                                 context.run_id)
        report(model.table, rows, started, f"(slice {day} {part['site']})")
        return {"day": part["day"], "path": str(path), "rows": rows,
                "duplicates": str(duplicates) if duplicates else None}

    return _slice


def _load_op(model: Model) -> dg.OpDefinition:
    @dg.op(name=f"{model.table.replace('.', '__')}__load", tags=WAREHOUSE_TAGS,
           out=dg.Out(dg.Nothing))
    def _load(context: dg.OpExecutionContext, warehouse: Warehouse, parts: list[dict]):
        started = time.perf_counter()
        start, end = window_of(context)
        paths = sorted(p["path"] for p in parts)
        # Partitions left from slices that no longer exist (a site gone from hosts) are removed, so
        # the work area holds what the table holds.
        for part_day in {p["day"] for p in parts}:
            folder = parts_dir(warehouse, model.table) / f"day={part_day}"
            for stale in folder.glob("*.parquet"):
                if str(stale) not in paths:
                    stale.unlink()
        found = sorted(p["duplicates"] for p in parts if p.get("duplicates"))
        with warehouse.connect() as conn:
            # The duplicate samples' quarantine rows and counts change in the same transaction as the
            # energy they were left out of.
            load_window(conn, model.table, paths, start, end, also=lambda c: record_duplicates(
                c, model.reads_files, found, start, end, context.run_id))
            md = table_metadata(conn, model.table, model.lineage or None)
        shutil.rmtree(warehouse.work_dir / "parts" / "_runs" / context.run_id, ignore_errors=True)
        report(model.table, md["dagster/row_count"], started, f"({len(paths)} slices)")
        context.add_output_metadata({**md, "slices": len(paths)})

    return _load


def sliced_asset(model: Model) -> dg.AssetsDefinition:
    """The model as a graph asset: plan, one slice step per (day, site), load."""
    sql.register(model.sql_name)
    deps = sql_deps(model)
    names = {d: d.replace(".", "__") for d in deps}
    ins = {names[d]: dg.In(dg.Nothing) for d in deps}
    plan, slice_, load = _plan_op(model, ins), _slice_op(model), _load_op(model)

    def compose(**upstream: Any) -> Any:
        return load(plan(**upstream).map(slice_).collect())

    schema, name = model.table.split(".")
    return dg.AssetsDefinition.from_graph(
        dg.graph(name=model.table.replace(".", "__"), description=model.description)(
            _signature(compose, list(names.values()))),
        keys_by_input_name={names[d]: dg.AssetKey(d.split(".")) for d in deps},
        keys_by_output_name={"result": dg.AssetKey([schema, name])},
        partitions_def=DAYS,
        backfill_policy=SINGLE_RUN,
        group_name=schema,
        descriptions_by_output_name={"result": model.description},
        owners_by_output_name={"result": OWNERS},
        code_versions_by_output_name={"result": sql.code_version(
            [model.sql_name, *(f"staging/stg_{i}" for i in model.reads_files)])},
        tags_by_output_name={"result": {"dagster/kind/duckdb": ""}},
    )


def _signature(fn: Any, params: list[str]) -> Any:
    """The compose function with named parameters, which dg.graph maps to its inputs."""
    import inspect

    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    return fn
