"""Asset checks: each runs one statement in sql/checks that returns `passed` plus evidence columns."""

import datetime as _dt
from decimal import Decimal

import dagster as dg
from dagster_duckdb import DuckDBResource

from .. import sql
from ..resources import LcaResource, open_connection


def _plain(value: object) -> object:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _evidence(row: dict) -> str:
    """The evidence columns as one line, so a failed check says what failed (site, zone, hours)."""
    return "; ".join(f"{k} = {_plain(v)}" for k, v in row.items() if v is not None)


def sql_check(table: str, sql_name: str, description: str, blocking: bool,
              extra: dict | None = None, name: str | None = None) -> dg.AssetChecksDefinition:
    sql.register(sql_name)

    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name=name or sql_name.split("/")[-1],
        description=description,
        blocking=blocking,
    )
    def _check(duckdb: DuckDBResource, lca: LcaResource) -> dg.AssetCheckResult:
        with open_connection(duckdb) as conn:
            cursor = sql.execute(conn, sql_name, {**lca.settings().sql_params(), **(extra or {})})
            columns = [d[0] for d in cursor.description]
            row = dict(zip(columns, cursor.fetchall()[0]))
        passed = bool(row.pop("passed"))
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if passed else _evidence(row),
            metadata={k: dg.MetadataValue.text(str(_plain(v))) if not isinstance(v, (int, float)) or v is None
                      else v for k, v in row.items()},
        )

    return _check


sql.register("checks/mart_float_columns")


def finite_check(table: str) -> dg.AssetChecksDefinition:
    """No NaN or Infinity in any floating-point column of the table: such a number is never a result."""
    schema, name = table.split(".")

    @dg.asset_check(
        asset=dg.AssetKey([schema, name]),
        name="finite_values",
        description=f"No NaN or Infinity in any floating-point column of {table}.",
        blocking=True,
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with open_connection(duckdb) as conn:
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
    "model_lifecycle", "model_lifecycle_components", "sensitivity", "stage_impacts",
)
CASCADE_INPUTS = ("hosts", "gpu_samples", "node_samples", "jobs", "allocations", "hardware", "energy_contracts")


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
