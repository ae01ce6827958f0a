"""The HTML report as an asset, with the key chart and a summary in its materialisation metadata."""

import base64
import time

import dagster as dg

from ..contract import OWNERS
from ..materialize import progress_log
from .. import report as report_module, runlog, sql
from ..report import write_report
from ..resources import WAREHOUSE_TAGS, Warehouse
from .run import sync_runs

# The summary in the metadata is the answer `lca demo` ends with.
_SUMMARY = "explain/model_summary"
sql.register(_SUMMARY)
_INPUTS = (
    "marts.model_lifecycle", "marts.model_lifecycle_components", "marts.fleet_daily", "marts.data_quality",
    "marts.energy_coverage", "marts.hotspots", "marts.sensitivity", "audit.table_lineage",
)


@dg.asset(
    op_tags=WAREHOUSE_TAGS,
    key=dg.AssetKey(["marts", "report"]),
    group_name="marts",
    deps=[dg.AssetKey(t.split(".")) for t in _INPUTS],
    code_version=report_module.code_version([_SUMMARY]),
    description="The self-contained HTML report: life cycle per model, per-request cost, fleet, quality, method.",
    owners=OWNERS,
    kinds={"html"},
)
def report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Write the report next to the warehouse and show its key chart in the UI."""
    started = time.perf_counter()
    # Written in the work area; the publish step swaps it in with the database it describes.
    out = warehouse.work_dir / "report.html"
    with warehouse.connect() as conn:
        # Every table is built and every blocking check passed: the report shows its run finished.
        sync_runs(conn, warehouse.published, {context.run_id: {"status": "success", "ended_at": runlog.now_utc().isoformat()}})
        summary = write_report(conn, out)
        rows = [(m, c, p, b) for m, c, _p05, _p95, p, b in sql.execute(conn, _SUMMARY).fetchall()]
    table = "| model | kgCO2e (location) | kgCO2e per 1,000 requests | break-even requests |\n|---|---|---|---|\n"
    table += "\n".join(
        f"| {m} | {c:,.3f} | {'-' if p is None else f'{p:.4g}'} | {'-' if b is None else f'{b:,.0f}'} |"
        for m, c, p, b in rows
    )
    md = {"path": str(out), "bytes": summary.bytes, "sections": len(summary.sections), "summary": dg.MetadataValue.md(table)}
    if "per-request" in summary.pngs:
        png = base64.b64encode(summary.pngs["per-request"]).decode()
        md["per_request_chart"] = dg.MetadataValue.md(f"![per-request cost](data:image/png;base64,{png})")
    progress_log.info("%-40s %12s      %8.2f s %s", "marts.report", "-", time.perf_counter() - started, out)
    return dg.MaterializeResult(metadata=md)
