"""Asset checks: each runs one statement in sql/checks that returns `passed` plus evidence columns."""

import dagster as dg

from .. import runlog, sql
from ..contract import plain
from ..partitions import run_day_keys
from ..resources import WAREHOUSE_TAGS, LcaResource, Warehouse


def _evidence(row: dict) -> str:
    """The evidence columns as one line, so a failed check says what failed (site, zone, hours)."""
    return "; ".join(f"{k} = {plain(v)}" for k, v in row.items() if v is not None)


def sql_check(table: str, sql_name: str, description: str, blocking: bool,
              extra: dict | None = None, name: str | None = None) -> dg.AssetChecksDefinition:
    sql.register(sql_name)
    check_name = name or sql_name.split("/")[-1]

    @dg.asset_check(
        op_tags=WAREHOUSE_TAGS,
        asset=dg.AssetKey(table.split(".")),
        name=check_name,
        description=description,
        blocking=blocking,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse, lca: LcaResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            params = {**lca.settings().sql_params(), "days": run_day_keys(context.run.tags), **(extra or {})}
            cursor = sql.execute(conn, sql_name, params)
            columns = [d[0] for d in cursor.description]
            row = dict(zip(columns, cursor.fetchall()[0]))
        passed = bool(row.pop("passed"))
        runlog.append(warehouse.published, "check", context.run.run_id, check=f"{table}:{check_name}", passed=passed)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if passed else _evidence(row),
            metadata={k: dg.MetadataValue.text(str(plain(v))) if not isinstance(v, (int, float)) or v is None
                      else v for k, v in row.items()},
        )

    return _check


sql.register("checks/mart_float_columns")


def finite_check(table: str) -> dg.AssetChecksDefinition:
    """No NaN or Infinity in any floating-point column of the table: such a number is never a result."""
    schema, name = table.split(".")

    @dg.asset_check(
        op_tags=WAREHOUSE_TAGS,
        asset=dg.AssetKey([schema, name]),
        name="finite_values",
        description=f"No NaN or Infinity in any floating-point column of {table}.",
        blocking=True,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            cols = [c for (c,) in sql.execute(conn, "checks/mart_float_columns",
                                               {"schema": schema, "table": name}).fetchall()]
            counts = [0] * len(cols)
            if cols:
                # Column names come from the catalogue, quoted as identifiers; nothing user-given.
                select = ", ".join(f'count(*) FILTER (WHERE NOT isfinite("{c}"))' for c in cols)
                counts = list(conn.execute(f'SELECT {select} FROM "{schema}"."{name}"').fetchall()[0])
        bad = {c: int(n) for c, n in zip(cols, counts) if n}
        return dg.AssetCheckResult(
            passed=not bad,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if not bad else f"{table}: non-finite values in " + ", ".join(
                f"{c} ({n} rows)" for c, n in bad.items()),
            metadata={"columns_checked": len(cols), "non_finite": dg.MetadataValue.json(bad)},
        )

    return _check


MART_TABLES = (
    "asset_embodied", "data_quality", "energy_coverage", "fleet_daily", "hotspots", "job_impacts",
    "model_lifecycle", "model_lifecycle_components", "sensitivity", "site_hourly_impacts", "stage_impacts",
)
CASCADE_INPUTS = ("hosts", "gpu_samples", "node_samples", "gpu_energy_minutes", "jobs", "allocations", "hardware",
                  "energy_contracts")


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
        "intermediate.telemetry_energy_hourly",
        "checks/telemetry_energy_units",
        "Hourly telemetry energy in kWh: non-negative, at most the device's power bound for a whole hour; "
        "covered seconds within the hour.",
        blocking=True,
    ),
    sql_check(
        "intermediate.telemetry_energy_hourly",
        "checks/telemetry_fresh",
        "Freshness: every day of the run has telemetry (unless the fleet reports none at all).",
        blocking=False,
    ),
]
CHECKS += [finite_check(f"marts.{t}") for t in MART_TABLES]
CHECKS += [
    sql_check(
        f"staging.{name}",
        "checks/no_cascade",
        f"No {name} row lost only because its parent row (site, host or job) was quarantined, "
        "unless lca.toml accepts cascades ([data] accept_cascades = true).",
        blocking=True,
        extra={"input": name},
    )
    for name in CASCADE_INPUTS
]
