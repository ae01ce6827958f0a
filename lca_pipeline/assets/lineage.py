"""Table lineage: for every table, the input files and factor-table versions it was built from."""

import time

import dagster as dg

from .. import sql
from ..contract import OWNERS
from ..materialize import report, table_metadata
from ..resources import WAREHOUSE_TAGS, Warehouse

sql.register("audit/create_table_lineage", "audit/delete_table_lineage", "audit/insert_table_lineage")


def lineage_asset(assets: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """An asset downstream of every table that records what each table rests on."""
    parents = {spec.key: {d.asset_key for d in spec.deps} for a in assets for spec in a.specs}
    keys = list(parents)
    pairs: list[tuple[str, str]] = []
    for key in keys:
        seen, stack = set(), list(parents[key])
        while stack:
            k = stack.pop()
            if k in seen or k not in parents:
                continue
            seen.add(k)
            stack.extend(parents[k])
        for k in sorted(seen | {key}, key=lambda k: k.to_user_string()):
            if k.path[0] == "staging":
                pairs.append((".".join(key.path), k.path[1]))
    tables, upstreams = [t for t, _ in pairs], [u for _, u in pairs]

    @dg.asset(
        op_tags=WAREHOUSE_TAGS,
        key=dg.AssetKey(["audit", "table_lineage"]),
        group_name="audit",
        deps=keys,
        code_version=sql.code_version(["audit/insert_table_lineage"]),
        description="For every table, the input files (sha256) and factor-table versions it was built from.",
        owners=OWNERS,
        kinds={"duckdb"},
    )
    def table_lineage(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        started = time.perf_counter()
        with warehouse.connect() as conn:
            sql.execute(conn, "audit/create_table_lineage")
            sql.execute(conn, "audit/delete_table_lineage")
            sql.execute(conn, "audit/insert_table_lineage",
                        {"tables": tables, "upstreams": upstreams, "run_id": context.run_id})
            md = table_metadata(conn, "audit.table_lineage")
        report("audit.table_lineage", md["dagster/row_count"], started)
        return dg.MaterializeResult(metadata=md)

    return table_lineage
