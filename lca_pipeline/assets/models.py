"""SQL model assets: each is one SELECT in sql/intermediate or sql/marts, materialised as a table."""

import time
from dataclasses import dataclass, field

import dagster as dg

from .. import sql
from ..contract import OWNERS
from ..materialize import replace_table, replace_window, report, table_metadata
from ..partitions import DAYS, SINGLE_RUN, hourly_window
from ..resources import WAREHOUSE_TAGS, LcaResource, Warehouse


@dataclass(frozen=True)
class Model:
    table: str
    sql_name: str
    # What the SQL reads, as a reader's summary; the asset graph takes its deps from the SQL itself
    # (`sql_deps`), and test_asset_graph fails when the two disagree.
    deps: tuple[str, ...]
    description: str
    partitioned: bool = False
    # Statements run after the table is built, e.g. recording assumptions in audit.assumptions.
    after: tuple[str, ...] = ()
    lineage: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Inputs whose validated rows the statement reads from the files as `valid_<input>`
    # (ingest.validated_ctes) instead of from a staging table.
    reads_files: tuple[str, ...] = ()


def sql_deps(model: Model) -> tuple[str, ...]:
    """The tables the model's statements read (schema-qualified names in the SQL), itself excluded."""
    read = {t for name in (model.sql_name, *model.after) for t in sql.tables_read(name)}
    return tuple(sorted(read - {model.table}))


def model_asset(model: Model) -> dg.AssetsDefinition:
    if model.reads_files:
        # Integrating telemetry from the files is split into slices (a site, a group of days) that run as
        # separate steps (assets/slices.py).
        from .slices import sliced_asset

        return sliced_asset(model)
    sql.register(model.sql_name, *model.after)
    schema, name = model.table.split(".")

    @dg.asset(
        op_tags=WAREHOUSE_TAGS,
        key=dg.AssetKey([schema, name]),
        group_name=schema,
        deps=[dg.AssetKey(d.split(".")) for d in sql_deps(model)],
        partitions_def=DAYS if model.partitioned else None,
        backfill_policy=SINGLE_RUN if model.partitioned else None,
        code_version=sql.code_version([model.sql_name, *model.after]),
        description=model.description,
        owners=OWNERS,
        kinds={"duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.MaterializeResult:
        started = time.perf_counter()
        params = {**lca.settings().sql_params(), "run_id": context.run_id, "asset": model.table}
        with warehouse.connect() as conn:
            if model.partitioned:
                # Hourly tables built from other tables are rebuilt from the first hour the
                # window's telemetry partition reaches (an interval ending just after midnight
                # lies partly in the day before), so a day's run completes the previous day's
                # last hour and day-by-day runs give the tables of one run over all days.
                # One thread for the same reason as below.
                first_hour, last_end = hourly_window(context, lca.settings().max_gap_s)
                conn.execute("SET threads = 1")
                try:
                    replace_window(conn, model.table, model.sql_name, params, first_hour, last_end,
                                   column="hour_start", column_type="TIMESTAMP")
                finally:
                    conn.execute("RESET threads")
            else:
                # Hourly-grain tables are small; one thread makes float sums add up in one order,
                # so identical inputs give byte-identical tables.
                conn.execute("SET threads = 1")
                try:
                    replace_table(conn, model.table, model.sql_name, params)
                finally:
                    conn.execute("RESET threads")
            if model.after:
                sql.execute(conn, "audit/delete_assumptions", params)
                for statement in model.after:
                    sql.execute(conn, statement, params)
            md = table_metadata(conn, model.table, model.lineage or None)
        report(model.table, md["dagster/row_count"], started)
        return dg.MaterializeResult(metadata=md)

    return _asset
