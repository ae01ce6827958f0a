"""Factor tables shipped with the package (data/factors), staged with their version and hash."""

import time

import dagster as dg

from .. import sql
from ..factors import FACTOR_SET_VERSION, FACTOR_TABLES, factor_path
from ..contract import OWNERS, sha256_file
from ..materialize import replace_table, report, table_metadata
from ..resources import WAREHOUSE_TAGS, Warehouse
from .run import RUNS

sql.register("audit/create_factor_sets", "audit/delete_factor_set", "audit/insert_factor_set")

_DESCRIPTIONS = {
    "factor_device_power": "Device TDP and default utilisation for estimate-mode jobs, with citations.",
    "factor_embodied_defaults": "Default embodied impact per unit by hardware kind and model, with citations.",
    "factor_component_model": "ACT-style per-process-node coefficients for the component model, with citations.",
    "factor_component_constants": "Constants of the component model (fab intensity, per-GB factors), with citations.",
    "factor_embodied_device": "Per-device embodied defaults for estimate-mode jobs, with citations.",
}


def _factor_asset(table: str) -> dg.AssetsDefinition:
    (name,) = sql.register(f"staging/stg_{table}")
    path = factor_path(table)

    @dg.asset(
        op_tags=WAREHOUSE_TAGS,
        key=dg.AssetKey(["staging", table]),
        group_name="staging",
        deps=[RUNS],
        code_version=f"{sql.code_version([name])}-{FACTOR_SET_VERSION}",
        description=_DESCRIPTIONS[table],
        owners=OWNERS,
        kinds={"duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        started = time.perf_counter()
        params = {
            "path": str(path),
            "version": FACTOR_SET_VERSION,
            "factor_table": table,
            "sha256": sha256_file(path),
            "run_id": context.run_id,
        }
        with warehouse.connect() as conn:
            sql.execute(conn, "audit/create_factor_sets")
            replace_table(conn, f"staging.{table}", name, params)
            sql.execute(conn, "audit/delete_factor_set", params)
            sql.execute(conn, "audit/insert_factor_set", params)
            md = table_metadata(conn, f"staging.{table}")
        report(f"staging.{table}", md["dagster/row_count"], started)
        return dg.MaterializeResult(
            metadata={**md, "factor_set_version": FACTOR_SET_VERSION, "sha256": params["sha256"], "path": str(path)}
        )

    return _asset


FACTOR_ASSETS = [_factor_asset(t) for t in FACTOR_TABLES]
