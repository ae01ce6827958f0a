"""`lca report`: one self-contained static HTML file from a warehouse.

The report reads the marts and audit tables of a DuckDB warehouse and writes a single HTML file
with inline CSS and charts embedded as base64 PNG: no JavaScript, no external fonts, nothing
fetched, so it opens offline and can be mailed or archived as one file. The same database gives
the same bytes (no wall-clock time is written; PNGs carry no software version).

A table the database lacks (or that lacks a column the report needs) never fails the report: the
section says it is not available in this database and names what is missing.

    build_report(db, out)    -> ReportSummary   opens db read-only and writes out
    write_report(conn, out)  -> ReportSummary   the same from an open connection; .pngs holds its charts
    render_charts(conn)      -> {name: PNG bytes} without writing a report
    code_version()           -> hash of the report's SQL and of this module, for the asset

Every statement is a file under sql/report/ (STATEMENTS). Columns an older warehouse may lack are
supplied as NULL inside the statement; Python decides only whether to show them.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import html
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from . import sql
from .contract import STAGES

STATEMENTS: tuple[str, ...] = sql.register(*(f"report/{name}" for name in (
    "columns", "lifecycle_components", "per_request", "intervals", "tornado", "fleet_daily",
    "fleet_totals", "energy_coverage", "hotspots", "sensitivity", "model_lifecycle", "offsets",
    "sci_boundary", "data_quality", "data_quality_notes", "quarantine", "factor_sets", "grid_sources",
    "runs", "latest_run",
)))

# Section ids, in order; each is the `id` of the section's <h2>.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Per-model totals"),
    ("lifecycle", "Life-cycle components"),
    ("per-request", "Per-request cost against lifetime requests"),
    ("fleet", "Fleet: daily energy and carbon per site"),
    ("data-quality", "Data quality"),
    ("hotspots", "Hotspots"),
    ("sensitivity", "Sensitivity"),
    ("method", "Method and sources"),
)
SECTION_IDS: tuple[str, ...] = tuple(s for s, _ in SECTIONS)

# Chart names returned by render_charts (and embedded in the section of the same id).
CHARTS: tuple[str, ...] = ("intervals", "lifecycle", "per-request", "fleet", "tornado")

# Life-cycle components in report order; any other component found is appended alphabetically.
COMPONENTS: tuple[str, ...] = (*STAGES, "embodied", "unallocated")
COMPONENT_COLOURS: dict[str, str] = {
    "data": "#4e79a7", "experimentation": "#f28e2b", "training": "#e15759",
    "post_training": "#76b7b2", "evaluation": "#59a14f", "inference": "#edc948",
    "other": "#b07aa1", "embodied": "#9c755f", "unallocated": "#bab0ac",
}
_EXTRA_COLOURS = ("#ff9da7", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d", "#f1ce63")
SERIES_COLOURS = (
    "#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1",
    "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac",
)
LIFECYCLE_CRITERION = "co2e_location_kg"
CURVE_RANGE = (1e3, 1e12)  # lifetime requests N plotted in the per-request chart

NOT_AVAILABLE = "not available in this database"
DASH = "\u2014"

# Column labels (with units) used by every table; a column not listed shows its own name.
LABELS: dict[str, str] = {
    "model": "model", "family": "family", "site": "site", "date": "date",
    "component": "component", "criterion": "criterion", "value": "value", "unit": "unit",
    "share": "share", "cumulative_share": "cumulative share",
    "requests_to_date": "requests to date",
    "expected_lifetime_requests": "expected lifetime requests",
    "lifetime_requests_used": "lifetime requests N used",
    "lifetime_requests_basis": "N basis",
    "energy_facility_kwh": "energy, facility (kWh)",
    "energy_it_kwh": "energy, IT (kWh)",
    "measured_it_kwh": "measured IT (kWh)",
    "co2e_location_kg": "CO\u2082e location (kg)",
    "co2e_market_kg": "CO\u2082e market (kg)",
    "total_co2e_location_kg": "total CO\u2082e location (kg)",
    "total_co2e_market_kg": "total CO\u2082e market (kg)",
    "operational_co2e_location_kg": "operational CO\u2082e location (kg)",
    "operational_co2e_market_kg": "operational CO\u2082e market (kg)",
    "operational_water_l": "operational water (L)",
    "water_l": "water (L)",
    "adp_kgsbeq": "ADP (kg Sb eq)",
    "upfront_co2e_kg": "up-front CO\u2082e (kg)",
    "inference_co2e_kg": "inference CO\u2082e (kg)",
    "embodied_co2e_kg": "embodied CO\u2082e (kg)",
    "unallocated_co2e_kg": "unallocated CO\u2082e (kg)",
    "per_1000_requests_co2e_kg": "kg CO\u2082e per 1,000 requests",
    "marginal_per_1000_requests_co2e_kg": "marginal kg CO\u2082e per 1,000 requests",
    "break_even_requests": "break-even requests",
    "sci_gco2e_per_request": "SCI (g CO\u2082e / request)",
    "row_type": "row",
    "per_1000_requests_co2e_market_kg": "market kg CO\u2082e per 1,000 requests",
    "total": "total",
    "measured_sample_share": "measured (samples)",
    "measured_job_share": "measured (job)",
    "estimated_share": "estimated",
    "telemetry_coverage": "telemetry coverage",
    "grid_fallback_hours": "grid fallback hours",
    "embodied_methods": "embodied methods",
    "embodied_missing_criteria": "embodied criteria without a factor",
    "jobs_embodied_unknown": "jobs with unknown embodied",
    "scope": "scope",
    "energy_measured_sample_kwh": "measured, samples (kWh)",
    "energy_measured_job_kwh": "measured, job (kWh)",
    "energy_estimated_kwh": "estimated (kWh)",
    "measured_share": "measured share",
    "grid_hours_interpolated": "grid hours interpolated",
    "grid_hours_nearest": "grid hours nearest",
    "grid_hours_annual_mean": "grid hours annual mean",
    "input": "input", "reason": "reason", "rows": "rows",
    "parameter": "parameter", "variant": "variant",
    "total_co2e_kg": "total CO\u2082e (kg)", "change_pct": "change",
    "total_co2e_location_kg_p05": "total CO\u2082e, 5th pct (kg)",
    "total_co2e_location_kg_p95": "total CO\u2082e, 95th pct (kg)",
    "per_1000_requests_co2e_kg_p05": "per 1,000, 5th pct (kg)",
    "per_1000_requests_co2e_kg_p95": "per 1,000, 95th pct (kg)",
    "break_even_requests_p05": "break-even, 5th pct",
    "break_even_requests_p95": "break-even, 95th pct",
    "first_date": "first day", "last_date": "last day", "days": "days",
    "factor_table": "factor table", "version": "version", "sha256": "sha256 (first 12)",
    "sources": "sources",
    "run_id": "run", "started_at": "started", "ended_at": "ended", "status": "status",
    "package_version": "package", "git_describe": "git", "settings_hash": "settings hash",
    "settings_source": "settings", "data_dir": "data", "partition_range": "days",
}
# Fractions shown as percentages, and percentages shown with a sign.
FRACTION_COLUMNS = frozenset({
    "share", "cumulative_share", "measured_sample_share", "measured_job_share", "estimated_share",
    "telemetry_coverage", "measured_share",
})
SIGNED_PCT_COLUMNS = frozenset({"change_pct"})
# Counts stored as DOUBLE: whole values are shown exactly, like integers.
COUNT_COLUMNS = frozenset({"requests_to_date", "expected_lifetime_requests", "lifetime_requests_used"})


@dataclass(frozen=True)
class ReportSummary:
    """What build_report wrote."""

    path: Path
    sections: tuple[str, ...]  # ids of the sections written, in order (always all of SECTION_IDS)
    unavailable: tuple[str, ...]  # section ids shown only as "not available in this database"
    missing_tables: tuple[str, ...]  # tables (or "table: columns") the report wanted and lacked
    charts: int  # PNG charts embedded
    bytes: int  # size of the file written
    # the charts drawn for the report, by name (as render_charts): drawing takes most of its time,
    # so the asset shows these in its metadata instead of drawing them again
    pngs: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# Formatting


def format_number(x: Any) -> str:
    """3 significant digits with thousands separators; ints exact; None/NaN as a dash."""
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, decimal.Decimal):
        x = float(x)
    x = float(x)
    if math.isnan(x):
        return DASH
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    r = float(f"{x:.3g}")
    if r == 0:
        return "0"
    if abs(r) >= 1e15 or abs(r) < 1e-4:
        return f"{x:.2e}"
    decimals = max(0, 2 - math.floor(math.log10(abs(r))))
    return f"{r:,.{decimals}f}"


def format_cell(column: str, x: Any) -> str:
    """Plain text for one cell (not yet escaped)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    if column in FRACTION_COLUMNS and isinstance(x, (int, float, decimal.Decimal)):
        return f"{format_number(100.0 * float(x))} %"
    if column in SIGNED_PCT_COLUMNS and isinstance(x, (int, float, decimal.Decimal)):
        v = float(x)
        text = format_number(v)
        return f"{'+' if v > 0 else ''}{text} %"
    if (column in COUNT_COLUMNS and isinstance(x, float) and x.is_integer()
            and abs(x) < 1e15):
        return f"{int(x):,}"
    if isinstance(x, (list, tuple)):
        return ", ".join(format_cell("", v) for v in x)
    if isinstance(x, dt.datetime):
        return x.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, (int, float, decimal.Decimal)):
        return format_number(x)
    return str(x)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _is_numeric(x: Any) -> bool:
    return isinstance(x, (int, float, decimal.Decimal)) and not isinstance(x, bool)


# ---------------------------------------------------------------------------------------------
# Database access


@dataclass
class _Db:
    conn: duckdb.DuckDBPyConnection
    missing: list[str] = field(default_factory=list)

    def columns(self, table: str) -> list[str]:
        schema, name = table.split(".", 1)
        rows = sql.execute(self.conn, "report/columns", {"schema": schema, "table": name}).fetchall()
        return [r[0] for r in rows]

    def need(self, table: str, cols: Iterable[str]) -> str | None:
        """None when `table` has every column in `cols`; otherwise why not (and remember it)."""
        have = self.columns(table)
        if not have:
            self._miss(table)
            return f"table {table} does not exist"
        lacking = [c for c in cols if c not in have]
        if lacking:
            self._miss(f"{table}: {', '.join(lacking)}")
            return f"table {table} lacks column(s) {', '.join(lacking)}"
        return None

    def _miss(self, what: str) -> None:
        if what not in self.missing:
            self.missing.append(what)

    def query(self, name: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run sql/report/<name>.sql: (column names, rows)."""
        cur = sql.execute(self.conn, f"report/{name}", params)
        cols = [d[0] for d in cur.description]
        return cols, cur.fetchall()


def _f(x: Any) -> float | None:
    """A finite float, or None."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------
# Data for each chart (shared by the charts and the tables next to them)

LIFECYCLE_COLS = ("model", "family", "requests_to_date", "expected_lifetime_requests",
                  "lifetime_requests_used", "lifetime_requests_basis", "energy_facility_kwh",
                  "total_co2e_location_kg", "total_co2e_market_kg", "operational_water_l", "adp_kgsbeq",
                  "upfront_co2e_kg",
                  "inference_co2e_kg", "embodied_co2e_kg", "unallocated_co2e_kg",
                  "per_1000_requests_co2e_kg", "marginal_per_1000_requests_co2e_kg",
                  "break_even_requests", "sci_gco2e_per_request")
PER_REQUEST_COLS = ("model", "marginal_per_1000_requests_co2e_kg", "upfront_co2e_kg",
                    "break_even_requests", "lifetime_requests_used", "lifetime_requests_basis",
                    "per_1000_requests_co2e_kg")
FLEET_COLS = ("site", "date", "energy_facility_kwh", "operational_co2e_location_kg", "operational_co2e_market_kg",
              "measured_it_kwh")


def _component_order(found: Iterable[str]) -> list[str]:
    found = set(found)
    return [c for c in COMPONENTS if c in found] + sorted(found - set(COMPONENTS))


def _component_colour(component: str, extra_index: int) -> str:
    return COMPONENT_COLOURS.get(component, _EXTRA_COLOURS[extra_index % len(_EXTRA_COLOURS)])


def _lifecycle_data(db: _Db) -> tuple[str | None, list[str], list[str], dict[tuple[str, str], float], str]:
    """(why not, models, components, {(model, component): value}, unit) for LIFECYCLE_CRITERION."""
    why = db.need("marts.model_lifecycle_components", ("model", "component", "criterion", "value", "unit"))
    if why:
        return why, [], [], {}, ""
    _, rows = db.query("lifecycle_components",
                       {"unallocated_label": UNALLOCATED_LABEL, "criterion": LIFECYCLE_CRITERION})
    found = {r[0] for r in rows}
    # models by name, the unallocated-capacity row (model NULL) last
    models = sorted(found - {UNALLOCATED_LABEL}) + ([UNALLOCATED_LABEL] if UNALLOCATED_LABEL in found else [])
    components = _component_order(r[1] for r in rows)
    values = {(r[0], r[1]): (_f(r[2]) or 0.0) for r in rows}
    units = sorted({u for r in rows if r[3] for u in str(r[3]).split(", ")})
    return None, models, components, values, ", ".join(units) or "kg CO\u2082e"


def per_request_curve(marginal_per_1000: float, upfront_kg: float, n: Any) -> Any:
    """C(N) in kg CO2e per 1,000 requests: marginal + up-front x 1000 / N (N scalar or array)."""
    return marginal_per_1000 + upfront_kg * 1000.0 / n


UNALLOCATED_LABEL = "unallocated capacity"


def _per_request_data(db: _Db) -> tuple[str | None, list[tuple]]:
    """Models only (not families, not the unallocated row): one curve each."""
    why = db.need("marts.model_lifecycle", PER_REQUEST_COLS)
    if why:
        return why, []
    _, rows = db.query("per_request")
    return None, rows


INTERVAL_COLS = ("model", "total_co2e_location_kg", "total_co2e_location_kg_p05", "total_co2e_location_kg_p95",
                 "per_1000_requests_co2e_kg", "per_1000_requests_co2e_kg_p05", "per_1000_requests_co2e_kg_p95",
                 "break_even_requests", "break_even_requests_p05", "break_even_requests_p95")


def _interval_data(db: _Db) -> tuple[str | None, list[tuple]]:
    """Model rows with their Monte Carlo intervals (marts.model_lifecycle *_p05 / *_p95)."""
    why = db.need("marts.model_lifecycle", INTERVAL_COLS)
    if why:
        return why, []
    _, rows = db.query("intervals")
    return None, rows


def _tornado_data(db: _Db) -> tuple[str | None, list[tuple]]:
    """(model, parameter, low %, high %, variant at low, variant at high) from marts.sensitivity."""
    why = db.need("marts.sensitivity", ("model", "parameter", "variant", "change_pct"))
    if why:
        return why, []
    _, rows = db.query("tornado")
    return None, rows


def _fleet_data(db: _Db) -> tuple[str | None, list[tuple]]:
    why = db.need("marts.fleet_daily", FLEET_COLS)
    if why:
        return why, []
    _, rows = db.query("fleet_daily")
    return None, rows


# ---------------------------------------------------------------------------------------------
# Charts (matplotlib, Agg, no pyplot: nothing global but an rc context)

_RC = {
    "svg.hashsalt": "lca-report",
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs everywhere
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "savefig.dpi": 110,
    "path.simplify": False,
}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _chart_lifecycle(models: list[str], components: list[str],
                     values: dict[tuple[str, str], float], unit: str) -> bytes | None:
    if not models or not components:
        return None
    import numpy as np

    fig = _new_figure(9.0, max(2.6, 0.42 * len(models) + 1.6))
    ax = fig.add_subplot()
    y = np.arange(len(models))
    pos = np.zeros(len(models))
    neg = np.zeros(len(models))
    extra = 0
    for comp in components:
        colour = _component_colour(comp, extra)
        extra += comp not in COMPONENT_COLOURS
        v = np.array([values.get((m, comp), 0.0) for m in models])
        left = np.where(v >= 0, pos, neg)
        ax.barh(y, v, left=left, height=0.62, color=colour, label=comp.replace("_", "-"),
                edgecolor="white", linewidth=0.5)
        pos = pos + np.where(v >= 0, v, 0.0)
        neg = neg + np.where(v < 0, v, 0.0)
    ax.set_yticks(y, models)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(f"{unit} (location-based, criterion {LIFECYCLE_CRITERION})")
    ax.set_title("Life-cycle carbon by component")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(models) > 3 else -0.3),
              ncols=min(len(components), 5))
    return _png(fig)


def _chart_per_request(rows: list[tuple]) -> bytes | None:
    import numpy as np
    from matplotlib.lines import Line2D

    curves = []
    for model, marginal, upfront, be, used, _basis, _p in rows:
        m, u = _f(marginal), _f(upfront)
        if m is None or u is None or (m <= 0 and u <= 0) or m < 0 or u < 0:
            continue
        curves.append((str(model), m, u, _f(be), _f(used)))
    if not curves:
        return None
    lo, hi = CURVE_RANGE
    marks = [x for c in curves for x in (c[3], c[4]) if x is not None and x > 0]
    if marks:
        lo = min(lo, 10 ** math.floor(math.log10(min(marks))))
        hi = max(hi, 10 ** math.ceil(math.log10(max(marks))))
    n = np.logspace(math.log10(lo), math.log10(hi), 241)

    fig = _new_figure(9.0, 5.0)
    ax = fig.add_subplot()
    handles = []
    for i, (model, m, u, be, used) in enumerate(curves):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        (line,) = ax.plot(n, per_request_curve(m, u, n), color=colour, linewidth=1.6, label=model)
        handles.append(line)
        if be is not None and be > 0:
            ax.plot([be], [per_request_curve(m, u, be)], marker="o", markersize=6, color=colour,
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none")
        if used is not None and used > 0:
            ax.axvline(used, color=colour, linestyle="--", linewidth=1.0, alpha=0.9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("lifetime requests N")
    ax.set_ylabel("kg CO\u2082e per 1,000 requests")
    ax.set_title("C(N) = marginal per 1,000 + up-front \u00d7 1,000 / N")
    handles += [
        Line2D([], [], marker="o", color="grey", markeredgecolor="black", linestyle="none",
               label="break-even (inference = up-front)"),
        Line2D([], [], color="grey", linestyle="--", label="lifetime requests used"),
    ]
    ax.legend(handles=handles, loc="upper right")
    return _png(fig)


def _chart_fleet(rows: list[tuple]) -> bytes | None:
    if not rows:
        return None
    import matplotlib.dates as mdates

    sites = sorted({r[0] for r in rows if r[0] is not None}) + (
        ["(none)"] if any(r[0] is None for r in rows) else [])
    by_site: dict[str, list[tuple]] = {s: [] for s in sites}
    for r in rows:
        by_site["(none)" if r[0] is None else r[0]].append(r)

    fig = _new_figure(9.0, 5.6)
    ax_e, ax_c = fig.subplots(2, 1, sharex=True)
    for i, site in enumerate(sites):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        pts = by_site[site]
        days = [r[1] for r in pts]
        nz = lambda k: [(_f(r[k]) if _f(r[k]) is not None else float("nan")) for r in pts]  # noqa: E731
        ax_e.plot(days, nz(2), color=colour, marker="o", markersize=3.5, label=site)
        ax_c.plot(days, nz(3), color=colour, marker="o", markersize=3.5, label=f"{site} location")
        ax_c.plot(days, nz(4), color=colour, marker="s", markersize=3.5, linestyle="--",
                  label=f"{site} market")
    first = min(r[1] for r in rows)
    last = max(r[1] for r in rows)
    span = (last - first).days
    if span <= 60:  # daily data: ticks on whole days, never hours
        locator = mdates.DayLocator(interval=max(1, math.ceil((span + 1) / 10)))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax_c.set_xlim(mdates.date2num(first) - 0.5, mdates.date2num(last) + 0.5)
    ax_c.xaxis.set_major_locator(locator)
    ax_c.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax_e.set_ylabel("facility energy (kWh/day)")
    ax_c.set_ylabel("kg CO\u2082e / day")
    ax_e.set_title("Daily facility energy and carbon per site")
    ax_e.set_ylim(bottom=0)
    ax_c.set_ylim(bottom=0)
    ax_e.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax_c.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def _chart_intervals(rows: list[tuple]) -> bytes | None:
    """Error bars: central value, median and 90 % interval of total CO2e and C_FU per model."""
    if not rows:
        return None
    panels = [(1, 2, 3, "total CO\u2082e, location-based (kg)"),
              (4, 5, 6, "kg CO\u2082e per 1,000 requests")]
    fig = _new_figure(9.0, max(2.4, 0.45 * len(rows) + 1.4))
    axes = fig.subplots(1, 2, sharey=True)
    models = [str(r[0]) for r in rows]
    for ax, (c, lo, hi, label) in zip(axes, panels):
        for y, r in enumerate(rows):
            central, p05, p95 = _f(r[c]), _f(r[lo]), _f(r[hi])
            if central is None or p05 is None or p95 is None:
                continue
            colour = SERIES_COLOURS[y % len(SERIES_COLOURS)]
            ax.errorbar([central], [y], xerr=[[central - p05], [p95 - central]], fmt="o", color=colour,
                        ecolor=colour, elinewidth=2.0, capsize=5, markersize=6, markeredgecolor="black")
        ax.set_xlabel(label)
        ax.grid(axis="y", visible=False)
        ax.set_xlim(left=0)
    axes[0].set_yticks(range(len(models)), models)
    axes[0].set_ylim(len(models) - 0.5, -0.5)
    fig.suptitle("Central value and 90 % interval (5th\u201395th percentile, seeded Monte Carlo)")
    return _png(fig)


def _chart_tornado(rows: list[tuple]) -> bytes | None:
    """One tornado per model: each parameter's swing of the per-1,000 (or total) figure, widest on top."""
    if not rows:
        return None
    models = list(dict.fromkeys(r[0] for r in rows))
    params = max(sum(1 for r in rows if r[0] == m) for m in models)
    cols = 2 if len(models) > 1 else 1
    nrows = math.ceil(len(models) / cols)
    fig = _new_figure(9.0, max(2.4, nrows * (0.32 * params + 1.1)))
    axes = fig.subplots(nrows, cols, squeeze=False)
    for i, model in enumerate(models):
        ax = axes[i // cols][i % cols]
        mine = [r for r in rows if r[0] == model]
        for y, (_, param, lo, hi, v_lo, v_hi) in enumerate(mine):
            lo, hi = _f(lo) or 0.0, _f(hi) or 0.0
            if abs(hi - lo) < 1e-9:
                ax.annotate(f"{v_hi}: no change" if abs(hi) < 1e-9 else str(v_hi), (max(hi, 0.0), y),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=7, color="#555555")
                continue
            ax.barh(y, min(hi, 0.0) - min(lo, 0.0), left=min(lo, 0.0), color="#4e79a7", height=0.6)
            ax.barh(y, max(hi, 0.0) - max(lo, 0.0), left=max(lo, 0.0), color="#e15759", height=0.6)
            ax.annotate(str(v_hi), (max(hi, 0.0), y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
            ax.annotate(str(v_lo), (min(lo, 0.0), y), xytext=(-3, 0), textcoords="offset points",
                        va="center", ha="right", fontsize=7)
        ax.set_yticks(range(len(mine)), [str(r[1]).replace("_", " ") for r in mine])
        ax.set_ylim(len(mine) - 0.5, -0.5)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        lim = max([abs(_f(v) or 0.0) for r in mine for v in (r[2], r[3])] + [1.0]) * 1.45
        ax.set_xlim(-lim, lim)
        ax.set_title(str(model), fontsize=9)
        ax.set_xlabel("change (%)")
    for j in range(len(models), nrows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.suptitle("One-at-a-time sensitivity: blue lowers, red raises the per-1,000-request figure "
                 "(total for models that serve nothing)", fontsize=9)
    return _png(fig)


def _charts(db: _Db) -> dict[str, tuple[str | None, bytes | None]]:
    """{chart: (why not available, PNG or None)} for every name in CHARTS."""
    import matplotlib
    import matplotlib.style

    out: dict[str, tuple[str | None, bytes | None]] = {}
    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        why, rows = _interval_data(db)
        out["intervals"] = (why, None if why else _chart_intervals(rows))
        why, models, components, values, unit = _lifecycle_data(db)
        out["lifecycle"] = (why, None if why else _chart_lifecycle(models, components, values, unit))
        why, rows = _per_request_data(db)
        out["per-request"] = (why, None if why else _chart_per_request(rows))
        why, rows = _fleet_data(db)
        out["fleet"] = (why, None if why else _chart_fleet(rows))
        why, rows = _tornado_data(db)
        out["tornado"] = (why, None if why else _chart_tornado(rows))
    return out


def render_charts(conn: duckdb.DuckDBPyConnection) -> dict[str, bytes]:
    """PNG bytes per chart (names in CHARTS); charts without data are left out."""
    return {k: png for k, (_, png) in _charts(_Db(conn)).items() if png}


# ---------------------------------------------------------------------------------------------
# HTML pieces


def _na(why: str) -> str:
    return f'<p class="na">This is {NOT_AVAILABLE}: {_e(why)}.</p>\n'


def _source(text: str) -> str:
    return f'<p class="src">Source: {_e(text)}</p>\n'


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]],
           cell: Callable[[str, Any], str] | None = None, caption: str | None = None) -> str:
    """An HTML table; `cell(column, value)` may return ready HTML for a cell, else text is escaped."""
    out = ['<div class="scroll"><table>\n']
    if caption:
        out.append(f"<caption>{_e(caption)}</caption>\n")
    out.append("<thead><tr>" + "".join(f"<th>{_e(LABELS.get(c, c))}</th>" for c in columns)
               + "</tr></thead>\n<tbody>\n")
    n = 0
    for row in rows:
        n += 1
        cells = []
        for c, v in zip(columns, row):
            content = cell(c, v) if cell else None
            if content is None:
                content = _e(format_cell(c, v))
            cls = ' class="num"' if _is_numeric(v) else (' class="nil"' if v is None else "")
            cells.append(f"<td{cls}>{content}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    if n == 0:
        out.append(f'<tr><td colspan="{len(columns)}" class="nil">no rows</td></tr>\n')
    out.append("</tbody></table></div>\n")
    return "".join(out)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></figure>\n'


def _select(db: _Db, table: str, cols: Sequence[str], name: str) -> tuple[str | None, list[tuple]]:
    """Rows of sql/report/<name>.sql, which selects `cols` of `table`, or why the table cannot give them."""
    why = db.need(table, cols)
    if why:
        return why, []
    _, rows = db.query(name)
    return None, rows


# ---------------------------------------------------------------------------------------------
# Sections: each returns (HTML body, available?)

SUMMARY_IMPACT_COLS = ("model", "family", "energy_facility_kwh", "total_co2e_location_kg", "total_co2e_market_kg",
                       "operational_water_l", "adp_kgsbeq", "sci_gco2e_per_request")
# The key results (per 1,000 requests, break-even) come first, so a narrow window still shows them.
SUMMARY_SPLIT_COLS = ("model", "per_1000_requests_co2e_kg", "marginal_per_1000_requests_co2e_kg",
                      "break_even_requests", "upfront_co2e_kg", "inference_co2e_kg", "embodied_co2e_kg",
                      "unallocated_co2e_kg", "requests_to_date", "expected_lifetime_requests",
                      "lifetime_requests_used", "lifetime_requests_basis")


def _model_cell(c: str, v: Any) -> str | None:
    if c == "model" and v is None:
        return f'<span class="nil">{_e(UNALLOCATED_LABEL)}</span>'
    return None


def _section_summary(db: _Db, charts: dict) -> tuple[str, bool]:
    why = db.need("marts.model_lifecycle", LIFECYCLE_COLS)
    if why:
        return _na(why), False
    have = db.columns("marts.model_lifecycle")
    # optional columns, shown when the mart has them
    lead = ["row_type"] if "row_type" in have else []
    market = ["per_1000_requests_co2e_market_kg"] if "per_1000_requests_co2e_market_kg" in have else []
    cols, rows = db.query("model_lifecycle")
    idx = {c: i for i, c in enumerate(cols)}
    impact_cols = ("model", *lead, *SUMMARY_IMPACT_COLS[1:])
    split_cols = ("model", *lead, SUMMARY_SPLIT_COLS[1], *market, *SUMMARY_SPLIT_COLS[2:])
    pick = lambda cs: [tuple(r[idx[c]] for c in cs) for r in rows]  # noqa: E731
    body = (
        "<p>Whole life cycle of each model: every stage of its compute, the embodied share of the "
        "hardware it used, and its share of unallocated capacity. Carbon is location-based unless "
        "marked market.</p>\n"
        + _table(impact_cols, pick(impact_cols), cell=_model_cell, caption="Impacts by model")
        + _table(split_cols, pick(split_cols), cell=_model_cell,
                 caption="Up-front and inference carbon (location-based unless marked), per 1,000 requests")
    )
    adp = idx["adp_kgsbeq"]
    if rows and all(r[adp] is None for r in rows):
        body += ('<p class="src">ADP (kg Sb eq) is empty: no hardware record or factor table in this '
                 "warehouse gives abiotic depletion, so it is unknown, not 0 (see "
                 "marts.asset_embodied.missing_criteria).</p>\n")
    why_iv, iv_rows = _interval_data(db)
    if not why_iv and iv_rows:
        png = charts["intervals"][1]
        body += "<h3>How sure: 90 % intervals</h3>\n<p>Each dot is the central value; the bar spans the " \
                "5th to 95th percentile of a seeded Monte Carlo over the documented ranges of PUE, grid " \
                "intensity, the data tier of each number, embodied factors, hardware lifetimes and " \
                "expected lifetime requests (method section).</p>\n"
        if png:
            body += _img(png, "Error bars: central value and 90 % interval of total CO2e and CO2e per "
                              "1,000 requests per model")
        body += _table(INTERVAL_COLS, iv_rows, cell=_model_cell, caption="Central value and 90 % interval")
    _, off = db.query("offsets")
    if off:
        body += ("<p>Offsets retired (reported beside Scope 2, never subtracted from it): "
                 + ", ".join(f"{_e(m)} {format_number(t)} t CO\u2082e" for m, t in off) + ".</p>\n")
    _, notes = db.query("sci_boundary")
    body += "".join(f'<p class="src">SCI boundary: {_e(n[0])}</p>\n' for n in notes)
    return body + _source("marts.model_lifecycle"), True


def _section_lifecycle(db: _Db, charts: dict) -> tuple[str, bool]:
    why, models, components, values, unit = _lifecycle_data(db)
    if why:
        return _na(why), False
    if not models:
        return (f"<p>No rows with criterion {_e(LIFECYCLE_CRITERION)}.</p>\n"
                + _source("marts.model_lifecycle_components")), True
    body = ""
    png = charts["lifecycle"][1]
    if png:
        body += _img(png, "Stacked bars of life-cycle carbon per model by component")
    cols = ["model", *components, "total"]
    rows = [(m, *[values.get((m, c)) for c in components],
             sum(values.get((m, c), 0.0) for c in components)) for m in models]
    body += _table(cols, rows, caption=f"Criterion {LIFECYCLE_CRITERION} ({unit}) by component")
    body += _source(f"marts.model_lifecycle_components (criterion = '{LIFECYCLE_CRITERION}', "
                    "value summed per model and component)")
    return body, True


def _section_per_request(db: _Db, charts: dict) -> tuple[str, bool]:
    why, rows = _per_request_data(db)
    if why:
        return _na(why), False
    body = (
        "<p>Per-request cost as a function of the number of requests N a model serves over its "
        "lifetime: C(N) = marginal per 1,000 requests + up-front \u00d7 1,000 / N (kg CO\u2082e per "
        "1,000 requests, log-log). Few requests leave the up-front cost (data, experimentation, "
        "training, post-training, evaluation) dominant; many requests approach the marginal "
        "inference cost. Dots mark the break-even point, where cumulative inference carbon "
        "equals the up-front carbon; dashed lines mark the lifetime requests used.</p>\n"
    )
    png = charts["per-request"][1]
    if png:
        body += _img(png, "Log-log curves of kg CO2e per 1,000 requests against lifetime requests")
    else:
        body += "<p>No model has a marginal and an up-front cost to plot.</p>\n"
    body += _table(PER_REQUEST_COLS, rows)
    body += _source("marts.model_lifecycle (marginal_per_1000_requests_co2e_kg, upfront_co2e_kg, "
                    "break_even_requests, lifetime_requests_used)")
    return body, True


def _section_fleet(db: _Db, charts: dict) -> tuple[str, bool]:
    why, rows = _fleet_data(db)
    if why:
        return _na(why), False
    body = ""
    png = charts["fleet"][1]
    if png:
        body += _img(png, "Daily facility energy and location/market carbon per site")
    _, totals = db.query("fleet_totals")
    body += _table(("site", "first_date", "last_date", "days", "energy_facility_kwh",
                    "measured_it_kwh", "operational_co2e_location_kg", "operational_co2e_market_kg"),
                   [(r[0], r[1], r[2], int(r[3]), *r[4:]) for r in totals], caption="Totals per site")
    body += (f"<details><summary>Daily values ({len(rows)} rows)</summary>\n"
             + _table(FLEET_COLS, rows) + "</details>\n")
    body += _source("marts.fleet_daily")
    return body, True


DQ_COLS = ("model", "criterion", "total", "measured_sample_share", "measured_job_share",
           "estimated_share", "telemetry_coverage", "grid_fallback_hours", "embodied_methods")
DQ_OPTIONAL_COLS = ("jobs_embodied_unknown",)  # shown when the mart has them
# The same fleet-wide text on every row of marts.data_quality: shown once under the table, not per row.
DQ_FLEET_NOTE = "embodied_missing_criteria"
COVERAGE_COLS = ("scope", "model", "energy_it_kwh", "energy_measured_sample_kwh",
                 "energy_measured_job_kwh", "energy_estimated_kwh", "measured_share",
                 "telemetry_coverage", "grid_hours_interpolated", "grid_hours_nearest",
                 "grid_hours_annual_mean")


def _section_data_quality(db: _Db, charts: dict) -> tuple[str, bool]:
    body = ""
    found = 0

    body += "<h3>Measured share and methods by model</h3>\n"
    why = db.need("marts.data_quality", DQ_COLS)
    if why:
        body += _na(why)
    else:
        found += 1
        have = db.columns("marts.data_quality")
        all_cols, all_rows = db.query("data_quality")
        cols = [*DQ_COLS, *(c for c in DQ_OPTIONAL_COLS if c in have)]
        keep = [all_cols.index(c) for c in cols]
        rows = [tuple(r[i] for i in keep) for r in all_rows]
        # embodied methods are per model: written on its first criterion row only
        m_i, e_i = cols.index("model"), cols.index("embodied_methods")
        rows = [r if i == 0 or r[m_i] != rows[i - 1][m_i] or r[e_i] is None
                else (*r[:e_i], "(as above)", *r[e_i + 1:]) for i, r in enumerate(rows)]
        body += _table(cols, rows, cell=_model_cell)
        _, notes = db.query("data_quality_notes")
        if notes:
            body += ("<p>Embodied criteria without a factor (fleet-wide; unknown, not 0): "
                     + "; ".join(_e(n[0]) for n in notes) + ".</p>\n")
        body += _source("marts.data_quality")

    body += "<h3>Energy coverage by measurement tier</h3>\n"
    why, rows = _select(db, "marts.energy_coverage", COVERAGE_COLS, "energy_coverage")
    if why:
        body += _na(why)
    else:
        found += 1

        def model_cell(c: str, v: Any) -> str | None:
            return '<span class="nil">unallocated / shared</span>' if c == "model" and v is None else None

        rows = [r if r[0] != "fleet" or r[1] is not None else (r[0], "(whole fleet)", *r[2:])
                for r in rows]
        body += (
            "<p>Share of IT energy measured from GPU samples, measured per job, or estimated; "
            "telemetry coverage of measured-sample allocations; grid hours that used a fallback "
            "intensity.</p>\n"
            + _table(COVERAGE_COLS, rows, cell=model_cell) + _source("marts.energy_coverage")
        )

    body += "<h3>Quarantined input rows</h3>\n"
    why = db.need("audit.quarantine", ("input", "reason"))
    if why:
        body += _na(why)
    else:
        found += 1
        _, rows = db.query("quarantine")
        body += (_table(("input", "reason", "rows"), rows)
                 + _source("audit.quarantine (rows counted by input and reason)"))
    return body, found > 0


HOTSPOT_COLS = ("model", "component", "criterion", "value", "share", "cumulative_share")
SENSITIVITY_COLS = ("model", "parameter", "variant", "per_1000_requests_co2e_kg", "total_co2e_kg",
                    "change_pct")


def _section_hotspots(db: _Db, charts: dict) -> tuple[str, bool]:
    why, rows = _select(db, "marts.hotspots", HOTSPOT_COLS, "hotspots")
    if why:
        return _na(why), False
    return ("<p>Components ranked by their share of each model's total, per criterion.</p>\n"
            + _table(HOTSPOT_COLS, rows) + _source("marts.hotspots")), True


def _section_sensitivity(db: _Db, charts: dict) -> tuple[str, bool]:
    why, rows = _select(db, "marts.sensitivity", SENSITIVITY_COLS, "sensitivity")
    if why:
        return _na(why), False
    body = ("<p>Each parameter varied on its own; change is relative to the base case. The widest "
            "swing is on top of each model's tornado; the variant at each end is written beside it.</p>\n")
    png = charts["tornado"][1]
    if png:
        body += _img(png, "Tornado chart per model: change of the per-1,000-request carbon when each parameter "
                          "moves on its own")
    body += (f"<details><summary>All variants ({len(rows)} rows)</summary>\n"
             + _table(SENSITIVITY_COLS, rows) + "</details>\n")
    return body + _source("marts.sensitivity"), True


METHOD_TEXT = """\
<p><strong>Goal and functional unit.</strong> The impact of serving one inference request with a
model over its whole life, reported per 1,000 requests. Life-cycle assessment after ISO 14040/44.
N is the number of requests the model serves in its lifetime: the expected lifetime requests when
given, else the requests served to date (column <code>lifetime_requests_basis</code>).</p>
<p><strong>System boundary.</strong> Everything the model's compute caused on the clusters: data
preparation, experimentation (failed and cancelled runs included), training, post-training,
evaluation and inference jobs, with host and shared-infrastructure energy and facility overhead
(PUE); the manufacturing (embodied) impact of the hardware, allocated by use; and the model's
share of capacity that was powered but allocated to no job (unallocated).</p>
<p><strong>Formulas.</strong></p>
<ul>
<li>Facility energy = IT energy \u00d7 PUE of the site at that hour.</li>
<li>Location-based carbon = facility kWh \u00d7 hourly carbon intensity of the site's grid zone.</li>
<li>Market-based carbon (GHG Protocol Scope 2 Guidance) = contracted MWh allotted to each
matching period (hour, month or year, <code>[market] matching</code>) by its overlap with the
contract's validity window, covering consumption in that period at the contract's intensity with no
banking across periods; the remainder at the residual mix (location-based where none). Offsets are
reported beside it, never netted.</li>
<li>Water = IT kWh \u00d7 WUE (on-site) + facility kWh \u00d7 EWIF (off-site).</li>
<li>Per request: C<sub>FU</sub> = marginal inference + (up-front + embodied share) / lifetime
requests N. The chart plots C(N) = marginal per 1,000 + up-front \u00d7 1,000 / N, up-front being
the model's request-independent carbon (<code>upfront_co2e_kg</code>).</li>
<li>Break-even: the N at which cumulative inference carbon equals the up-front carbon,
N = up-front \u00d7 1,000 / marginal per 1,000 (also given for energy and market-based carbon).</li>
<li>Uncertainty: 90 % intervals (5th\u201395th percentile) from a seeded Monte Carlo in SQL; every
draw scales PUE, grid intensity, each data tier's energy, embodied factors (low/central/high),
hardware lifetimes and expected lifetime requests within their documented ranges
(<code>[uncertainty]</code> in lca.toml). The same inputs and seed give the same bytes.</li>
</ul>
"""
FACTOR_COLS = ("factor_table", "version", "sha256", "rows", "sources")
RUN_COLS = ("run_id", "started_at", "ended_at", "status", "partition_range", "package_version",
            "git_describe", "settings_hash", "settings_source", "data_dir")


def _section_method(db: _Db, charts: dict) -> tuple[str, bool]:
    body = METHOD_TEXT

    body += "<h3>Factor tables</h3>\n"
    why = db.need("audit.factor_sets", ("factor_table", "version", "sha256", "sources"))
    if why:
        body += _na(why)
    else:
        _, rows = db.query("factor_sets")

        def sources_cell(c: str, v: Any) -> str | None:
            if c != "sources" or v is None:
                return None
            items = list(v) if isinstance(v, (list, tuple)) else [v]
            lis = "".join(f"<li>{_e(s)}</li>" for s in items)
            return (f"<details><summary>{len(items)} source{'s' if len(items) != 1 else ''}"
                    f"</summary><ul>{lis}</ul></details>")

        body += _table(FACTOR_COLS, rows, cell=sources_cell) + _source("audit.factor_sets")

    body += "<h3>Grid carbon-intensity data</h3>\n"
    why = db.need("staging.grid_intensity", ("source",))
    if why:
        body += _na(why)
    else:
        _, rows = db.query("grid_sources")
        body += ("<ul>" + "".join(f"<li>{_e(format_cell('source', r[0]))}</li>" for r in rows)
                 + "</ul>\n" if rows else "<p>No grid rows.</p>\n")
        body += _source("staging.grid_intensity (distinct source)")

    body += "<h3>Runs</h3>\n"
    why = db.need("audit.runs", ("run_id",))
    if why:
        body += _na(why)
    else:
        have = db.columns("audit.runs")
        all_cols, all_rows = db.query("runs")
        cols = [c for c in RUN_COLS if c in have]
        keep = [all_cols.index(c) for c in cols]
        body += _table(cols, [tuple(r[i] for i in keep) for r in all_rows]) + _source("audit.runs")
    return body, True


_SECTION_BUILDERS = {
    "summary": _section_summary,
    "lifecycle": _section_lifecycle,
    "per-request": _section_per_request,
    "fleet": _section_fleet,
    "data-quality": _section_data_quality,
    "hotspots": _section_hotspots,
    "sensitivity": _section_sensitivity,
    "method": _section_method,
}

CSS = """\
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       font-size: 14px; line-height: 1.45; color: #1f2328; margin: 0 auto; max-width: 1180px;
       padding: 1.2em 1.6em 3em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2.2em; padding-bottom: 0.2em; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
.meta { color: #57606a; margin-top: 0; }
nav ol { columns: 2; padding-left: 1.4em; }
a { color: #0969da; }
.scroll { overflow-x: auto; margin: 0.6em 0; }
/* The first column (the model) stays in view when a wide table scrolls sideways; the right-edge
   shadow is the scroll cue (background-attachment: local hides it once scrolled to the end). */
.scroll { background: linear-gradient(to left, #ffffff 40%, rgba(255, 255, 255, 0)) right / 3em 100% no-repeat local,
          linear-gradient(to left, rgba(0, 0, 0, 0.18), rgba(0, 0, 0, 0)) right / 1em 100% no-repeat scroll; }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; z-index: 1; background: #ffffff;
          box-shadow: 1px 0 0 #d0d7de; }
.scroll th:first-child { background: #f6f8fa; }
.scroll tbody tr:nth-child(even) td:first-child { background: #fbfcfd; }
table { border-collapse: collapse; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #f6f8fa; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nil, .nil { color: #8c959f; }
tbody tr:nth-child(even) { background: #fbfcfd; }
figure { margin: 0.8em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
.na { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.5em 0.8em; }
.src { color: #57606a; font-size: 0.9em; margin-top: 0.2em; }
details ul { margin: 0.3em 0; padding-left: 1.2em; }
code { font-size: 0.92em; background: #f6f8fa; padding: 0 0.2em; }
"""


def _header(db: _Db) -> str:
    line = "No run recorded in audit.runs."
    if not db.need("audit.runs", ("run_id",)):
        pick, rows = db.query("latest_run")
        if rows:
            r = dict(zip(pick, rows[0]))
            parts = [f"latest run {format_cell('run_id', r['run_id'])}"]
            if r.get("partition_range"):
                parts.append(f"days {format_cell('', r['partition_range'])}")
            if r.get("ended_at"):
                parts.append(f"ended {format_cell('', r['ended_at'])}")
            if r.get("status"):
                parts.append(f"status {format_cell('', r['status'])}")
            line = "Warehouse state after " + ", ".join(parts) + "."
    return (
        "<header>\n<h1>Life-cycle assessment of ML models</h1>\n"
        f'<p class="meta">{_e(line)} ISO 14040/44 life-cycle assessment; every figure names '
        "the table it comes from.</p>\n</header>\n"
    )


def render_html(conn: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, Any]]:
    """The report as a string, with {sections, unavailable, missing_tables, charts, pngs}."""
    db = _Db(conn)
    charts = _charts(db)
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>Life-cycle assessment report</title>\n"
        f"<style>\n{CSS}</style>\n</head>\n<body>\n",
        _header(db),
        "<nav><ol>\n" + "".join(f'<li><a href="#{sid}">{_e(title)}</a></li>\n' for sid, title in SECTIONS)
        + "</ol></nav>\n",
    ]
    unavailable = []
    for number, (sid, title) in enumerate(SECTIONS, start=1):
        body, ok = _SECTION_BUILDERS[sid](db, charts)
        if not ok:
            unavailable.append(sid)
        parts.append(f'<section>\n<h2 id="{sid}">{number}. {_e(title)}</h2>\n{body}</section>\n')
    parts.append("</body>\n</html>\n")
    text = "".join(parts)
    return text, {
        "sections": SECTION_IDS,
        "unavailable": tuple(unavailable),
        "missing_tables": tuple(db.missing),
        "charts": text.count('src="data:image/png;base64,'),
        "pngs": {name: png for name, (_, png) in charts.items() if png},
    }


def write_report(conn: duckdb.DuckDBPyConnection, out: Path) -> ReportSummary:
    """Write the report for an open connection to `out` (parent folders created)."""
    text, info = render_html(conn)
    data = text.encode("utf-8")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return ReportSummary(path=out, bytes=len(data), **info)


def code_version(extra_sql: Iterable[str] = ()) -> str:
    """Hash of what determines the report: its SQL files (and `extra_sql`) and this module's source."""
    digest = hashlib.sha256(sql.code_version([*STATEMENTS, *extra_sql]).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def build_report(db: Path, out: Path) -> ReportSummary:
    """Open the DuckDB file `db` read-only and write the HTML report to `out`."""
    from .resources import read_published

    with read_published(db) as conn:
        return write_report(conn, Path(out))
