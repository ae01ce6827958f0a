"""Boavizta manufacturer PCF database (environmental-footprint-data) -> a pcf_factors table.

Reads the US format (comma, dot decimals) and the FR format (semicolon, decimal comma, CRLF).
One output row per product. `gwp_total_kgco2e` is the product's whole life-cycle footprint
(use phase included); `gwp_manufacturing_kgco2e` = gwp_total x gwp_manufacturing_ratio is the
cradle-to-gate share to use as hardware.embodied_kgco2e. Hardware records match a factor row by
manufacturer and model name, case-insensitive with spaces collapsed (`match_key`).
"""

from __future__ import annotations

import csv
import io
import re

from ..contract import PROVENANCE
from .common import FileContext, ImportedFile, ImporterError, join_errors, write_primary

KIND = "boavizta-pcf"
CITATION = "Boavizta environmental-footprint-data (ODbL 1.0)"

NUMERIC = (
    "gwp_total", "gwp_use_ratio", "yearly_tec", "lifetime", "gwp_error_ratio", "gwp_manufacturing_ratio",
    "weight", "screen_size", "number_cpu", "height", "gwp_transport_ratio", "gwp_eol_ratio",
    "gwp_electronics_ratio", "gwp_battery_ratio", "gwp_hdd_ratio", "gwp_ssd_ratio", "gwp_othercomponents_ratio",
)
# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ()
OUT_COLUMNS = (
    "manufacturer", "name", "category", "subcategory", "match_key",
    "gwp_total_kgco2e", "gwp_manufacturing_ratio", "gwp_manufacturing_kgco2e", "gwp_use_ratio",
    "gwp_transport_ratio", "gwp_eol_ratio", "gwp_error_ratio", "lifetime_years", "yearly_tec_kwh",
    "use_location", "assembly_location", "report_date", "weight_kg", "server_type", "hard_drive",
    "memory", "number_cpu", "source",
) + PROVENANCE


def match_key(manufacturer: str | None, name: str | None) -> str:
    """How hardware records find their factor: lower case, spaces collapsed, 'manufacturer|name'."""
    def norm(s: str | None) -> str:
        return re.sub(r"\s+", " ", (s or "").strip()).lower()

    return f"{norm(manufacturer)}|{norm(name)}"


def _num(v: str | None, decimal_comma: bool) -> tuple[float | None, str | None]:
    s = (v or "").strip()
    if not s:
        return None, None
    if decimal_comma:
        s = s.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        return float(s), None
    except ValueError:
        return None, f"'{v}' is not a number"


def run(ctx: FileContext) -> ImportedFile:
    """Read the rows (US or FR format), normalise each product, write pcf_factors."""
    rec = ctx.record
    header, records, decimal_comma = _read(ctx)
    rec.rows_in = len(records)
    if not records:
        rec.notes.append("no data rows; nothing written")
        return rec
    rows = [_normalise(ctx, header, line, row, decimal_comma) for line, row in records]
    _write(ctx, rows)
    return rec


def _read(ctx: FileContext) -> tuple[list[str] | None, list[tuple[int, list[str]]], bool]:
    """The header, the data rows with their line numbers, and whether numbers use a decimal comma."""
    raw = ctx.path.read_bytes().replace(b"\x00", b"")
    text = raw.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    decimal_comma = delim == ";"
    ctx.note(f"format: {'FR (semicolon, decimal comma)' if decimal_comma else 'US (comma, decimal point)'}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = None
    records = []
    prev_end = 0
    for row in reader:
        start = prev_end + 1
        prev_end = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            if "manufacturer" not in header or "gwp_total" not in header:
                raise ImporterError(
                    f"{ctx.path}: line {start} is not a Boavizta PCF header (need manufacturer, name, gwp_total)"
                )
            continue
        records.append((start, row))
    return header, records, decimal_comma


def _numbers(f: dict[str, str], decimal_comma: bool, errs: list[str]) -> dict[str, float | None]:
    """The numeric columns present; a bad value in a column the method uses is an error."""
    nums = {}
    for col in NUMERIC:
        if col in f:
            val, err = _num(f[col], decimal_comma)
            nums[col] = val
            if err and col in ("gwp_total", "gwp_manufacturing_ratio", "lifetime"):
                errs.append(f"{col} {err}")
    return nums


def _normalise(ctx: FileContext, header: list[str], line: int, row: list[str], decimal_comma: bool) -> tuple:
    """One contract pcf_factors row; manufacturing kgCO2e = gwp_total x gwp_manufacturing_ratio when both are valid."""
    f = dict(zip(header, (c.strip() for c in row)))
    errs = []
    if len(row) != len(header):
        errs.append(f"row has {len(row)} fields, header has {len(header)}")
    nums = _numbers(f, decimal_comma, errs)
    gwp = nums.get("gwp_total")
    if gwp is None and not any(e.startswith("gwp_total") for e in errs):
        errs.append("gwp_total is empty")
    elif gwp is not None and gwp <= 0:
        errs.append(f"gwp_total {gwp:g} is not positive")
    ratio = nums.get("gwp_manufacturing_ratio")
    if ratio is not None and not 0 <= ratio <= 1:
        errs.append(f"gwp_manufacturing_ratio {ratio:g} is outside 0..1")
        ratio_ok = False
    else:
        ratio_ok = ratio is not None
    if not f.get("manufacturer") or not f.get("name"):
        errs.append("manufacturer or name is empty")
    sources = f.get("sources") or ""
    return (
        f.get("manufacturer") or None, f.get("name") or None, f.get("category") or None,
        f.get("subcategory") or None, match_key(f.get("manufacturer"), f.get("name")),
        gwp, ratio, round(gwp * ratio, 6) if gwp is not None and ratio_ok else None, nums.get("gwp_use_ratio"),
        nums.get("gwp_transport_ratio"), nums.get("gwp_eol_ratio"), nums.get("gwp_error_ratio"),
        nums.get("lifetime"), nums.get("yearly_tec"), f.get("use_location") or None,
        f.get("assembly_location") or None, f.get("report_date") or None, nums.get("weight"),
        f.get("server_type") or None, f.get("hard_drive") or None, f.get("memory") or None,
        nums.get("number_cpu"),
        f"{CITATION}; {f.get('manufacturer') or '?'} PCF {f.get('report_date') or ''}: {sources}".strip(),
        ctx.origin, line, join_errors(*errs),
    )


def _write(ctx: FileContext, rows: list[tuple]) -> None:
    write_primary(ctx, "pcf_factors", OUT_COLUMNS, rows, sum(r[-1] is not None for r in rows))
    keys = [r[4] for r in rows if r[-1] is None]
    dups = len(keys) - len(set(keys))
    if dups:
        ctx.note(f"{dups} product(s) share a manufacturer|name match_key with another row (kept; first wins when matching)")
    servers = sum(1 for r in rows if (r[3] or "").lower() == "server")
    ctx.note(f"{servers} server(s) among {len(rows)} products")
