"""Staging assets: one typed DuckDB table per input, with bad rows quarantined."""


import time

import dagster as dg

from .. import sql
from ..contract import OWNERS
from ..ingest import stage_input
from ..inputs import INPUTS, InputSpec
from ..materialize import report, table_metadata
from ..partitions import DAYS, SINGLE_RUN, window_of
from ..resources import WAREHOUSE_TAGS, LcaResource, Warehouse
from .run import IMPORTS


def _staging_asset(spec: InputSpec) -> dg.AssetsDefinition:
    (name,) = sql.register(f"staging/stg_{spec.name}")
    table = f"staging.{spec.name}"

    @dg.asset(
        op_tags=WAREHOUSE_TAGS,
        key=dg.AssetKey(["staging", spec.name]),
        name=None,
        group_name="staging",
        deps=[dg.AssetKey(["raw", spec.name]), IMPORTS] + [dg.AssetKey(["staging", d]) for d in spec.deps],
        partitions_def=DAYS if spec.partitioned else None,
        backfill_policy=SINGLE_RUN if spec.partitioned else None,
        code_version=sql.code_version([name]),
        description=spec.description,
        owners=OWNERS,
        kinds={"duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.MaterializeResult:
        started = time.perf_counter()
        settings = lca.settings()
        window = window_of(context) if spec.partitioned else None
        with warehouse.connect() as conn:
            result = stage_input(conn, spec.name, lca.data_dirs(), settings.sql_params(), context.run_id, window)
            md = table_metadata(conn, table)
        if result.kept_from_run:
            note = f"({result.rows_quarantined} quarantined; files unchanged, kept from run {result.kept_from_run})"
        else:
            note = f"({result.rows_quarantined} quarantined)"
        report(table, result.rows_staged, started, note)
        return dg.MaterializeResult(
            # The files' sha256s version the table: a changed file makes everything below it stale.
            data_version=dg.DataVersion(result.content_hash),
            metadata={
                **md,
                "files": result.files,
                "rows_staged": result.rows_staged,
                "rows_quarantined": result.rows_quarantined,
                "quarantine_reasons": dg.MetadataValue.json(result.reasons),
                # Set when nothing the staging depends on changed since that run (audit.staged_inputs).
                **({"kept_from_run": result.kept_from_run} if result.kept_from_run else {}),
            }
        )

    return _asset


STAGING_ASSETS = [_staging_asset(spec) for spec in INPUTS.values()]
