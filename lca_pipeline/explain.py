"""`lca explain`: one reported number, how it decomposes, and everything it rests on."""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from pathlib import Path
from typing import Any

import duckdb

from . import sql
from .resources import read_published
from .contract import plain
from .ingest import sha256_file

CRITERIA = (
    "operational_co2e_location_kg", "operational_co2e_market_kg", "energy_facility_kwh", "energy_it_kwh",
    "water_onsite_l", "water_offsite_l", "embodied_co2e_kg",
)
# Names before the marts said their scope (issue 14); still accepted so old scripts keep working.
ALIASES = {"co2e_location_kg": "operational_co2e_location_kg", "co2e_market_kg": "operational_co2e_market_kg"}
_SECTIONS = {
    "components": "explain/components",
    "by_job": "explain/by_job",
    "sites": "explain/factors_sites",
    "grid": "explain/factors_grid",
    "hardware": "explain/factors_embodied",
    "tiers": "explain/tiers",
    "assumptions": "explain/assumptions",
    "source_files": "explain/source_files",
    "factor_sets": "explain/factor_sets",
    "run": "explain/run",
}
sql.register("explain/select_rows", "explain/select_embodied", "explain/reported_value", *_SECTIONS.values())


class ExplainError(ValueError):
    """The selection names nothing in the database; the message says what to change."""


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cursor.description]
    return [{c: plain(v) for c, v in zip(cols, row)} for row in cursor.fetchall()]


def _settings_of_run(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Settings the latest successful run recorded (audit.runs.settings_json); {} when none."""
    try:
        row = sql.execute(conn, "explain/run", {}).fetchone()
    except duckdb.Error:  # a warehouse without audit.runs
        return {}
    if not row or not row[4]:
        return {}
    return json.loads(row[4])


def _nearest(conn: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> str:
    """For each given key that names nothing, the closest valid values (difflib)."""
    lookups = {
        "model": "SELECT DISTINCT model FROM marts.stage_impacts WHERE model IS NOT NULL",
        "stage": "SELECT DISTINCT stage FROM marts.stage_impacts",
        "date": "SELECT DISTINCT CAST(date AS VARCHAR) FROM marts.stage_impacts",
        "site": "SELECT DISTINCT site FROM marts.stage_impacts WHERE site IS NOT NULL",
        "job": "SELECT DISTINCT job_id FROM marts.job_impacts",
    }
    hints = []
    for key, query in lookups.items():
        value = params.get(key)
        if value is None:
            continue
        try:
            valid = sorted(str(r[0]) for r in conn.execute(query).fetchall())
        except duckdb.Error:
            continue
        if str(value) in valid:
            continue
        close = difflib.get_close_matches(str(value), valid, n=3, cutoff=0.0) if valid else []
        hints.append(f"{key} {value!r} not found" + (f"; nearest: {', '.join(close)}" if close else ""))
    return "; ".join(hints)


def explain(
    db: Path,
    model: str | None = None,
    stage: str | None = None,
    date: str | None = None,
    job: str | None = None,
    criterion: str = "operational_co2e_location_kg",
    site: str | None = None,
    verify: bool = False,
) -> dict[str, Any]:
    """Explain one number of marts.stage_impacts (model, stage, date[, site]) or marts.job_impacts (job)."""
    criterion = ALIASES.get(criterion, criterion)
    if criterion not in CRITERIA:
        near = difflib.get_close_matches(criterion, CRITERIA, n=3, cutoff=0.0)
        raise ExplainError(f"unknown criterion {criterion!r}; nearest: {', '.join(near)} (all: {', '.join(CRITERIA)})")
    if date is not None:
        try:
            _dt.date.fromisoformat(str(date))
        except ValueError:
            raise ExplainError(f"--date {date!r} is not a date; give a UTC day as YYYY-MM-DD, e.g. 2024-03-04") from None
    if not Path(db).is_file():
        raise ExplainError(f"database not found: {db} (run `lca run` or `lca demo` first)")
    params = {"model": model, "stage": stage, "date": date, "job": job, "site": site, "criterion": criterion}
    with read_published(db) as conn:
        # lifetimes in years use the convention of the run that built the tables, not a constant
        params["hours_per_year"] = float(_settings_of_run(conn).get("hours_per_year", 8760.0))
        conn.execute(f"CREATE TEMP TABLE _explain_rows AS {sql.wrapped('explain/select_rows')}",
                     sql.params_for("explain/select_rows", params))
        conn.execute(f"CREATE TEMP TABLE _explain_embodied AS {sql.wrapped('explain/select_embodied')}",
                     sql.params_for("explain/select_embodied", params))
        selected = conn.execute("SELECT (SELECT count(*) FROM _explain_rows) + (SELECT count(*) FROM _explain_embodied)"
                                ).fetchall()[0][0]
        value = sql.execute(conn, "explain/reported_value", params).fetchall()[0][0]
        if not selected and value is None:
            hint = _nearest(conn, params)
            raise ExplainError(
                "nothing matches "
                + ", ".join(f"{k}={v!r}" for k, v in params.items()
                            if v is not None and k in ("model", "stage", "date", "job", "site"))
                + (f" ({hint})" if hint else "")
                + "; list the keys with: SELECT DISTINCT model, stage, date, site FROM marts.stage_impacts"
            )
        out: dict[str, Any] = {
            "selection": {k: params[k] for k in ("model", "stage", "date", "job", "site")},
            "criterion": criterion,
            "value": plain(value),
        }
        for key, name in _SECTIONS.items():
            out[key] = _records(sql.execute(conn, name, params))
    known = [p["value"] for p in out["components"] if p["value"] is not None]
    out["parts_sum"] = sum(known) if known or not out["components"] else None  # all parts unknown: unknown
    jobs = [r for r in out["by_job"] if r["job_id"] is not None]
    out["jobs"] = len(jobs)
    if out["run"] and out["run"][0].get("settings_json"):
        settings = json.loads(out["run"][0]["settings_json"])
        out["settings"] = {k: settings[k] for k in (
            "embodied_policy", "expected_utilisation", "hours_per_year", "grid_basis", "grid_kind",
            "grid_interpolate_max_h", "shared_infra", "idle_allocation", "max_gap_s") if k in settings}
    if verify:
        for f in out["source_files"]:
            path = Path(f["path"])
            f["on_disk"] = "missing" if not path.is_file() else (
                "match" if sha256_file(path) == f["sha256"] else "changed")
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return "-" if value is None else str(value)


def render_text(result: dict[str, Any], limit: int = 15) -> str:
    """A human reading of explain()'s result."""
    sel = ", ".join(f"{k}={v}" for k, v in result["selection"].items() if v is not None)
    if not sel:  # model NULL over every stage and date: what no model's job holds
        sel = "unallocated capacity, shared infrastructure and jobs without a model (all stages and dates)"
    lines = [f"{result['criterion']} for {sel}: {_fmt(result['value'])}", "", "by component:"]
    lines += [f"  {p['component']:<28} {_fmt(p['value']):>14}" for p in result["components"]]
    lines.append(f"  {'(sum of parts)':<28} {_fmt(result['parts_sum']):>14}")
    lines += ["", f"by job ({result['jobs']} jobs; largest {limit}):"]
    for r in result["by_job"][:limit]:
        who = r["job_id"] or f"({r['row_kind']})"
        lines.append(f"  {who:<28} {_fmt(r['value']):>14}  {r.get('tier') or ''}")
    if result["sites"]:
        lines += ["", "site factors (PUE, WUE L/kWh, EWIF L/kWh):"]
        lines += [f"  {s['site']}: PUE {_fmt(s['pue'])}, WUE {_fmt(s['wue_l_per_kwh'])}, EWIF {_fmt(s['ewif_l_per_kwh'])}"
                  f" for {s['hours']} h from {s['first_hour']} ({s['site_source_file']} row {s['site_source_row']})"
                  for s in result["sites"]]
    if result["grid"]:
        lines += ["", "grid intensity (gCO2e/kWh):"]
        lines += [f"  {g['zone']} {g['basis']}/{g['kind']} {g['first_hour']} .. {g['end_hour']}: mean "
                  f"{_fmt(g['mean_gco2e_per_kwh'])} (min {_fmt(g['min_gco2e_per_kwh'])}, max {_fmt(g['max_gco2e_per_kwh'])}),"
                  f" {g['fallback_hours']} fallback h [{g['fallbacks']}]; source {g['sources']}; market: {g['market_basis']}"
                  for g in result["grid"]]
    if result["hardware"]:
        lines += ["", "hardware (embodied):"]
        lines += [f"  {h['asset_id']} {h['kind']} {h['model']}: {h['embodied_method']}, {_fmt(h['life_years'])} y, "
                  f"total {_fmt(h['total_co2e_kg'])} kg, here {_fmt(h['co2e_kg_in_selection'])} kg"
                  for h in result["hardware"][:limit]]
    if result.get("settings"):
        lines += ["", "settings: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items())]
    lines += ["", "data tiers:"]
    lines += [f"  {t['tier']:<16} {_fmt(t['energy_it_kwh'])} kWh IT, {t['grid_fallback_hours']} grid fallback h"
              for t in result["tiers"]]
    if result["assumptions"]:
        lines += ["", "assumptions:"]
        lines += [f"  {a['subject']} {a['subject_id']}: {a['parameter']}={a['value']} ({a['reason']})"
                  for a in result["assumptions"][:limit]]
    lines += ["", "source files:"]
    for f in result["source_files"]:
        check = f" [{f['on_disk']}]" if "on_disk" in f else ""
        origin = f" (imported by {f['imported_by']} from {f['export_file']})" if f.get("imported_by") else ""
        lines.append(f"  {f['input']:<16} {f['path']}  sha256 {(f['sha256'] or '?')[:16]}{check}{origin}")
    lines += ["", "factor tables:"]
    lines += [f"  {t['factor_table']} v{t['version']} sha256 {t['sha256'][:16]} ({t['rows']} rows)"
              for t in result["factor_sets"]]
    if result["run"]:
        r = result["run"][0]
        lines += ["", f"run {r['run_id']} ({r['package_version']}, {r['git_describe']}, settings {r['settings_hash']})"]
    return "\n".join(lines)
