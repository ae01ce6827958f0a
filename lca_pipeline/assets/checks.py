"""Asset checks: each runs one statement in sql/checks that returns `passed` plus evidence columns."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from .. import sql
from ..contract import plain
from ..resources import LcaResource, open_connection


def sql_check(table: str, sql_name: str, description: str, blocking: bool) -> dg.AssetChecksDefinition:
    sql.register(sql_name)

    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name=sql_name.split("/")[-1],
        description=description,
        blocking=blocking,
    )
    def _check(duckdb: DuckDBResource, lca: LcaResource) -> dg.AssetCheckResult:
        with open_connection(duckdb) as conn:
            cursor = sql.execute(conn, sql_name, lca.settings().sql_params())
            columns = [d[0] for d in cursor.description]
            row = dict(zip(columns, cursor.fetchall()[0]))
        passed = bool(row.pop("passed"))
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
]
