"""Asset checks: each runs one statement in sql/checks that returns `passed` plus evidence columns."""

import datetime as _dt

import dagster as dg

from .. import runlog, sql
from ..contract import plain
from ..resources import LcaResource, Warehouse


def run_day_list(context: dg.AssetCheckExecutionContext) -> list[str]:
    """Every day key the run covers, from its partition tags."""
    tags = context.run.tags
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    if not start:
        return []
    end = tags.get("dagster/asset_partition_range_end") or start
    first, last = _dt.date.fromisoformat(start), _dt.date.fromisoformat(end)
    return [(first + _dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def sql_check(table: str, sql_name: str, description: str, blocking: bool) -> dg.AssetChecksDefinition:
    sql.register(sql_name)
    check_name = sql_name.split("/")[-1]

    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name=check_name,
        description=description,
        blocking=blocking,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            cursor = sql.execute(conn, sql_name, {**lca.settings().sql_params(), "days": run_day_list(context)})
            columns = [d[0] for d in cursor.description]
            row = dict(zip(columns, cursor.fetchall()[0]))
        passed = bool(row.pop("passed"))
        runlog.append(warehouse.published, "check", context.run.run_id, check=f"{table}:{check_name}", passed=passed)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={k: dg.MetadataValue.text(str(plain(v))) if not isinstance(v, (int, float)) or v is None
                      else v for k, v in row.items()},
        )

    return _check


CHECKS = [
    sql_check(
        "intermediate.energy_ledger_hourly",
        "checks/energy_conservation",
        "Conservation: measured energy = attributed to jobs + unallocated (+ shared rows), to 1e-9 relative.",
        blocking=True,
    ),
    sql_check(
        "intermediate.site_hourly",
        "checks/site_factors_complete",
        "Every site-hour with energy has a zone and a PUE.",
        blocking=True,
    ),
    sql_check(
        "intermediate.grid_hourly",
        "checks/grid_complete",
        "Every zone-hour with energy has a carbon intensity (reported or a labelled fallback).",
        blocking=True,
    ),
    sql_check(
        "marts.job_impacts",
        "checks/job_impacts_key",
        "One row per staged job.",
        blocking=False,
    ),
    sql_check(
        "marts.stage_impacts",
        "checks/stage_impacts_key",
        "Unique (model, stage, date, site), no NULL keys, no negative energy.",
        blocking=False,
    ),
    sql_check(
        "marts.asset_embodied",
        "checks/embodied_conservation",
        "Embodied conservation per asset: pre-period + allocated + unallocated + remaining = total, to 1e-9.",
        blocking=False,
    ),
    sql_check(
        "staging.gpu_samples",
        "checks/gpu_samples_units",
        "Staged GPU power in W within the physical bound; counter in kWh non-negative.",
        blocking=True,
    ),
    sql_check(
        "intermediate.telemetry_energy_hourly",
        "checks/telemetry_fresh",
        "Freshness: every day of the run has telemetry (unless the fleet reports none at all).",
        blocking=False,
    ),
]
