"""Telemetry integration fanned out: one step per (days, site) slice, each writing Parquet partitions.

Reading every sample again to integrate energy is the heaviest work of a refresh, and each (day,
site) of it is independent. So the asset is a graph of three ops:

    plan   (warehouse)  which slices the window has (a site's consecutive days share one while
                        their samples fit [telemetry] slice_samples); exports what a slice needs
    slice  (no warehouse, mapped)  integrates one slice from the raw files into one file per day,
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
# Consecutive days of one site share a slice while their staged samples add up to no more than
# [telemetry] slice_samples (default 30M). A slice's fixed cost (its step, reading the exports,
# opening the files) is about 0.13 s: a backfill of 120 small days cost 240 slices x 0.13 s. A day
# above it (a 1 Hz fleet day) stays alone, and 30M samples fit the slice's 2.5 GB memory budget with
# little spilling.


def _mapping_key(day: date, days: int, site: str, index: int) -> str:
    # Dagster mapping keys allow [A-Za-z0-9_]; the index keeps two sites that differ only in
    # punctuation apart.
    return f"d{day:%Y%m%d}_{days}d_{re.sub(r'[^A-Za-z0-9_]', '_', site)[:40]}_{index}"


def group_days(days: list[date], samples: dict[date, int], budget: int) -> list[list[date]]:
    """Consecutive days in groups whose samples add up to at most `budget` (a larger day alone)."""
    groups: list[list[date]] = []
    total = 0
    for day in days:
        n = samples.get(day, 0)
        if groups and total + n <= budget:
            groups[-1].append(day)
            total += n
        else:
            groups.append([day])
            total = n
    return groups


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
            samples = _samples_per_day_and_site(conn, shared, bool(sites))
        days = [(start + timedelta(days=i)).date() for i in range((end - start).days)]
        # Every (day, site) pair is in a slice, so each day's partition file is replaced on a re-run
        # even when it has no rows now; without sites the slices cover every host.
        planned = [(group, site) for site in sites or [_ALL_SITES]
                   for group in group_days(days, {d: n for (d, s), n in samples.items() if s == site},
                                           lca.settings().slice_samples)]
        report(model.table, 0, started, f"({len(planned)} slices planned for {len(days)} day(s))")
        for index, (group, site) in enumerate(planned, start=1):
            yield dg.DynamicOutput(
                {"days": [d.isoformat() for d in group], "site": site, "shared": str(shared)},
                mapping_key=_mapping_key(group[0], len(group), site, index))

    return _plan


def _samples_per_day_and_site(conn: Any, shared: Path, by_site: bool) -> dict[tuple[date, str], int]:
    """Staged rows per (day, site) in the exported staging summaries: what each slice will read."""
    summaries = sorted(str(p) for p in shared.glob("staging.*.parquet") if p.stem != "staging.hosts")
    if not summaries:
        return {}
    site = "h.site" if by_site else "CAST($all AS VARCHAR)"
    text = (f"SELECT s.partition_day, {site}, CAST(sum(s.rows_staged) AS BIGINT) "
            "FROM read_parquet($files, union_by_name = true) AS s "
            "JOIN read_parquet($hosts) AS h ON h.host = s.host GROUP BY ALL")
    return {(d, st): int(n) for d, st, n in conn.execute(text, sql.params_in(text, {
        "files": summaries, "hosts": str(shared / "staging.hosts.parquet"), "all": _ALL_SITES})).fetchall()}


def integrate_slice(model: Model, days: list[date], site: str, shared: Path, parts: Path, lca: LcaResource,
                    run_id: str) -> tuple[list[Path], int, Path | None]:
    """Run the model's statement for consecutive days and one site's hosts, writing one Parquet file
    per day, and, when it found duplicate samples, their quarantine rows in another (in the run's
    folder)."""
    day = days[0]
    spill = parts / ".spill" / f"{day.isoformat()}-{os.getpid()}"
    conn = scratch(spill)
    try:
        sql.create_macros(conn)
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
        end = datetime.combine(days[-1], datetime.min.time()) + timedelta(days=1)
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
            duplicates = shared / "duplicates" / f"day={day.isoformat()}-{len(days)}d-site={site}.parquet"
            duplicates.parent.mkdir(parents=True, exist_ok=True)
            found = duplicate_rows(conn, model.reads_files, bound, start, end)
            found.write_parquet(str(duplicates))
            n = conn.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(duplicates)}).fetchall()[0][0]
            if n:
                progress.warning("%s: %d duplicate sample(s) in %s..%s (site %s) quarantined; the first of "
                                 "each by file and row is kept", model.table, n, day, days[-1], site)
        rows = conn.execute("SELECT count(*) FROM _slice").fetchall()[0][0]
        targets = []
        for d in days:
            out_dir = parts / f"day={d.isoformat()}"
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"site={site}.parquet"
            # Written beside the target and renamed: a killed slice never leaves half a partition.
            tmp = out_dir / f".{target.name}.{os.getpid()}.tmp"
            conn.sql("SELECT * EXCLUDE (duplicate_samples) FROM _slice WHERE partition_day = $d",
                     params={"d": d}).write_parquet(str(tmp))
            os.replace(tmp, target)
            targets.append(target)
        return targets, int(rows), duplicates
    finally:
        conn.close()
        shutil.rmtree(spill, ignore_errors=True)


def _slice_op(model: Model) -> dg.OpDefinition:
    @dg.op(name=f"{model.table.replace('.', '__')}__slice")
    def _slice(context: dg.OpExecutionContext, lca: LcaResource, warehouse: Warehouse, part: dict) -> dict:
        # `warehouse` is only asked for paths here: a slice never opens the work database.
        started = time.perf_counter()
        days = [date.fromisoformat(d) for d in part["days"]]
        paths, rows, duplicates = integrate_slice(model, days, part["site"], Path(part["shared"]),
                                                  parts_dir(warehouse, model.table), lca, context.run_id)
        span = f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]}"
        report(model.table, rows, started, f"(slice {span} {part['site']})")
        return {"days": part["days"], "paths": [str(p) for p in paths], "rows": rows,
                "duplicates": str(duplicates) if duplicates else None}

    return _slice


def _load_op(model: Model) -> dg.OpDefinition:
    @dg.op(name=f"{model.table.replace('.', '__')}__load", tags=WAREHOUSE_TAGS,
           out=dg.Out(dg.Nothing))
    def _load(context: dg.OpExecutionContext, warehouse: Warehouse, parts: list[dict]):
        started = time.perf_counter()
        start, end = window_of(context)
        paths = sorted(path for p in parts for path in p["paths"])
        # Partitions left from slices that no longer exist (a site gone from hosts) are removed, so
        # the work area holds what the table holds.
        for part_day in {d for p in parts for d in p["days"]}:
            folder = parts_dir(warehouse, model.table) / f"day={part_day}"
            for stale in folder.glob("*.parquet"):
                if str(stale) not in paths:
                    stale.unlink()
        found = sorted(p["duplicates"] for p in parts if p.get("duplicates"))
        with warehouse.connect() as conn:
            # The duplicate samples' quarantine rows and counts change in the same transaction as the
            # energy they were left out of.
            quarantined = load_window(conn, model.table, paths, start, end, also=lambda c: record_duplicates(
                c, model.reads_files, found, start, end, context.run_id))
            md = table_metadata(conn, model.table, model.lineage or None)
        shutil.rmtree(warehouse.work_dir / "parts" / "_runs" / context.run_id, ignore_errors=True)
        report(model.table, md["dagster/row_count"], started,
               f"({len(parts)} slices, {len(paths)} partition files, {quarantined} duplicate samples quarantined)")
        context.add_output_metadata({**md, "slices": len(parts), "partition_files": len(paths),
                                     "duplicate_samples_quarantined": quarantined})

    return _load


def sliced_asset(model: Model) -> dg.AssetsDefinition:
    """The model as a graph asset: plan, one slice step per site and group of days, load."""
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
            [model.sql_name, *sql.MACROS, *(f"staging/stg_{i}" for i in model.reads_files)])},
        tags_by_output_name={"result": {"dagster/kind/duckdb": ""}},
    )


def _signature(fn: Any, params: list[str]) -> Any:
    """The compose function with named parameters, which dg.graph maps to its inputs."""
    import inspect

    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    return fn
