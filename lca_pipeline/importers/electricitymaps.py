"""Electricity Maps portal hourly CSV -> grid_intensity (two rows per hour: direct and lifecycle).

Header (the portal's own, UTF-8 with a subscript 2):
`Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity
gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,Data Source,Data Estimated,Data
Estimation Method`; newer exports say "Life cycle" instead of "LCA" and use other capitals, which
is matched too. Parsed in DuckDB SQL (a quote-aware field split per line).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from ..contract import PROVENANCE
from .common import (
    SQL_FMT_UTC,
    FileContext,
    ImportedFile,
    ImporterError,
    connect,
    copy_primary,
    load_lines,
    sql_literal,
)

KIND = "electricitymaps"
SOURCE = "Electricity Maps (ODbL)"
# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("zone",)
OUT_COLUMNS = (
    "zone", "ts", "gco2e_per_kwh", "basis", "kind", "source", "estimated",
) + PROVENANCE

_FIELD = r'("(?:[^"]|"")*"|[^,]*),'


def _find(names: list[str], *patterns: str) -> int | None:
    for i, n in enumerate(names):
        if all(re.search(p, n, re.IGNORECASE) for p in patterns):
            return i
    return None


def run(ctx: FileContext) -> ImportedFile:
    """Read the header and rows, normalise each hour to one row per basis, write grid_intensity."""
    rec = ctx.record
    zone_opt = ctx.options.get("zone")
    con = connect()
    try:
        load_lines(con, ctx.path)
        header = _read_header(ctx, con, zone_opt)
        if header is None:
            rec.notes.append("empty file; nothing written")
            return rec
        rec.rows_in = _load_rows(con, header)
        if rec.rows_in == 0:
            rec.notes.append("no data rows; nothing written")
            return rec
        _normalise(ctx, con, header, zone_opt)
        _write(ctx, con, header, zone_opt)
    finally:
        con.close()
    return rec


@dataclass(frozen=True)
class _Header:
    """The header line and the index of each column the importer reads (None: absent)."""

    line_no: int
    line: str
    names: list[str]
    i_ts: int | None
    i_zone: int | None
    i_direct: int | None
    i_lca: int | None
    i_est: int | None
    i_method: int | None
    i_src: int | None

    def bases(self) -> list[tuple[str, str, str]]:
        """(basis, raw column, header label) for each intensity column present."""
        return [(basis, col, self.names[i]) for basis, col, i in
                (("direct", "direct_txt", self.i_direct), ("lifecycle", "lca_txt", self.i_lca)) if i is not None]


def _read_header(ctx: FileContext, con, zone_opt) -> _Header | None:
    first = con.execute("SELECT lineno, line FROM lines WHERE trim(line) <> '' ORDER BY lineno LIMIT 1").fetchone()
    if first is None:
        return None
    header_no, header_line = first
    names = [n.strip().lstrip("\ufeff") for n in next(csv.reader([header_line]))]
    h = _Header(
        header_no, header_line, names,
        i_ts=_find(names, r"^datetime"),
        i_zone=_find(names, r"^zone ?id$"),
        i_direct=_find(names, r"carbon intensity", r"direct"),
        i_lca=_find(names, r"carbon intensity", r"(lca|life)"),
        i_est=_find(names, r"^data estimated$"),
        i_method=_find(names, r"estimation method"),
        i_src=_find(names, r"^data source$"),
    )
    if h.i_ts is None or (h.i_direct is None and h.i_lca is None):
        raise ImporterError(
            f"{ctx.path}: line {header_no} is not an Electricity Maps hourly CSV header (need 'Datetime (UTC)' "
            "and 'Carbon Intensity gCO₂eq/kWh (direct)' / '(LCA)' columns)"
        )
    if h.i_zone is None and zone_opt is None:
        raise ImporterError(f"{ctx.path}: no 'Zone Id' column; pass --option electricitymaps.zone=<zone>")
    if "utc" not in names[h.i_ts].lower():
        ctx.note(f"timestamp column {names[h.i_ts]!r} does not say UTC; taken as UTC")
    return h


def _load_rows(con, header: _Header) -> int:
    """Table `rows`: each data line split into fields (quote-aware when the file quotes); returns the count."""
    quoted = con.execute(
        f"SELECT count(*) FROM lines WHERE lineno > {header.line_no} AND contains(line, '\"')"
    ).fetchone()[0]
    split = (
        f"""list_transform(regexp_extract_all(line || ',', '{_FIELD}', 1),
                   lambda x: CASE WHEN x LIKE '"%"' AND length(x) >= 2
                                  THEN replace(x[2:-2], '""', '"') ELSE trim(x) END)"""
        if quoted
        else "list_transform(string_split(line, ','), lambda x: trim(x))"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE rows AS
        SELECT lineno, {split} AS f
        FROM lines
        WHERE lineno > {header.line_no} AND trim(line) <> '' AND trim(line) <> {sql_literal(header.line.strip())}
        """
    )
    return con.execute("SELECT count(*) FROM rows").fetchone()[0]


def _normalise(ctx: FileContext, con, header: _Header, zone_opt) -> None:
    """Tables `base` (typed values per hour) and `result` (one contract row per hour and basis, with errors)."""
    def f(i: int | None) -> str:
        return f"nullif(f[{i + 1}], '')" if i is not None else "NULL::VARCHAR"

    ncols = len(header.names)
    zone = sql_literal(str(zone_opt)) if zone_opt is not None else f(header.i_zone)
    ts_txt = f(header.i_ts)
    source = (
        f"{sql_literal(SOURCE)} || coalesce('; data source: ' || {f(header.i_src)}, '') "
        f"|| coalesce('; estimation: ' || {f(header.i_method)}, '')"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE base AS
        SELECT lineno, len(f) AS nf, {zone} AS zone, {ts_txt} AS ts_txt,
               CASE WHEN regexp_matches({ts_txt}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$')
                    THEN TRY_CAST({ts_txt} AS TIMESTAMPTZ)
                    ELSE TRY_CAST({ts_txt} AS TIMESTAMP)::TIMESTAMPTZ END AS ts,
               {source} AS source,
               CASE lower({f(header.i_est)}) WHEN 'true' THEN true WHEN 'false' THEN false END AS estimated,
               {f(header.i_est)} AS estimated_txt,
               {f(header.i_direct)} AS direct_txt, {f(header.i_lca)} AS lca_txt
        FROM rows
        """
    )
    parts = []
    for basis, col, label in header.bases():
        parts.append(
            f"""
            SELECT zone, {SQL_FMT_UTC.format('ts')} AS ts, TRY_CAST({col} AS DOUBLE) AS gco2e_per_kwh,
                   '{basis}' AS basis, 'average' AS kind, source,
                   CASE WHEN estimated THEN 'true' WHEN NOT estimated THEN 'false' END AS estimated,
                   {sql_literal(ctx.origin)} AS origin_file, lineno AS origin_line,
                   nullif(concat_ws('; ',
                       CASE WHEN nf <> {ncols} THEN 'row has ' || nf || ' fields, header has {ncols}' END,
                       CASE WHEN zone IS NULL THEN 'empty Zone Id' END,
                       CASE WHEN ts IS NULL THEN 'Datetime ''' || coalesce(ts_txt, '') || ''' not understood' END,
                       CASE WHEN {col} IS NULL THEN {sql_literal(label)} || ' is empty'
                            WHEN TRY_CAST({col} AS DOUBLE) IS NULL
                            THEN {sql_literal(label)} || ' ''' || {col} || ''' is not a number' END,
                       CASE WHEN estimated_txt IS NOT NULL AND estimated IS NULL
                            THEN 'Data Estimated ''' || estimated_txt || ''' is not true/false' END
                   ), '') AS import_error
            FROM base
            """
        )
    con.execute("CREATE TEMP TABLE result AS " + " UNION ALL ".join(parts))


def _write(ctx: FileContext, con, header: _Header, zone_opt) -> None:
    rec = ctx.record
    # One original line gives a row per basis: rows_out counts lines, rows_flagged lines with an error.
    copy_primary(ctx, con, "grid_intensity", order_by="origin_line, basis",
                 flagged_sql="SELECT count(DISTINCT origin_line) FROM result WHERE import_error IS NOT NULL")
    rec.rows_out = rec.rows_in
    bases = header.bases()
    ctx.note(f"{len(bases)} grid_intensity row(s) per hour ({', '.join(b for b, _, _ in bases)})")
    zones, n_est, t0, t1 = con.execute(
        "SELECT list(DISTINCT zone ORDER BY zone), count(*) FILTER (WHERE estimated), min(ts), max(ts) FROM base"
    ).fetchone()
    zones = [z for z in (zones or []) if z]
    ctx.note(f"zone(s): {', '.join(zones)}; {t0} .. {t1}; {n_est} estimated hour(s)")
    stem_zone = ctx.path.stem.split("_")[0]
    if zone_opt is None and zones and re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]+)*", stem_zone) and stem_zone not in zones:
        ctx.note(
            f"file name says zone {stem_zone} but the rows' Zone Id is {', '.join(zones)}; zone kept as given "
            "(set option electricitymaps.zone to override)"
        )
    ctx.note("attribute 'Electricity Maps' (ODbL 1.0) wherever results derived from these values are shown")
