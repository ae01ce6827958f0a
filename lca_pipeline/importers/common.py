"""Shared pieces of the importers: result records, options, output paths, DuckDB helpers.

Every importer turns one original export into contract CSV files under
``data_dir/<input>/<kind>__<stem>.csv`` and accounts for every data row of the original:

    rows_in == rows_out + rows_folded

where ``rows_out`` counts original rows written to the primary output (flagged rows included:
they carry ``import_error`` and are quarantined by staging with that reason) and ``rows_folded``
counts original rows merged into another row (sacct job steps, DCGM metric lines of one sample).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from ..contract import PROVENANCE, sha256_file  # noqa: F401  (sha256_file re-exported for the importers)

# gpu_samples as written by nvidia-smi, nvidia-smi-q and dcgm (gpu_model is an extra column)
GPU_SAMPLE_COLUMNS = (
    "ts", "host", "gpu", "power_w", "energy_mj", "util_pct", "mem_used_mib", "gpu_uuid", "gpu_model",
) + PROVENANCE


class ImporterError(ValueError):
    """A file that is not of the kind at all (no recognisable header, wrong format).

    Quirks inside a file of the right kind never raise: the affected rows are written with
    ``import_error`` set. The message names the file and the fix.
    """


@dataclass
class ImportedFile:
    """What one original file became."""

    source: Path
    sha256: str
    kind: str
    outputs: dict[str, Path] = field(default_factory=dict)  # input name -> written CSV
    rows_in: int = 0  # data rows / records in the original
    rows_out: int = 0  # original rows written to the primary output (flagged ones included)
    rows_flagged: int = 0  # of rows_out, those written with import_error set
    rows_folded: int = 0  # original rows merged into another output row
    rows_written: dict[str, int] = field(default_factory=dict)  # input name -> CSV data rows
    notes: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_folded


@dataclass
class ImportResult:
    kind: str
    files: list[ImportedFile] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # files in a folder that are not of this kind

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_out(self) -> int:
        return sum(f.rows_out for f in self.files)

    @property
    def rows_flagged(self) -> int:
        return sum(f.rows_flagged for f in self.files)

    @property
    def rows_folded(self) -> int:
        return sum(f.rows_folded for f in self.files)


@dataclass(frozen=True)
class Importer:
    kind: str
    primary: str  # the contract input (or factor table) the importer writes rows_out to
    description: str
    suffixes: tuple[str, ...]  # file name endings taken when `path` is a folder
    run: Callable[["FileContext"], ImportedFile]
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # output -> its CSV header


# --------------------------------------------------------------------------------------------
# options


def normalize_options(options: dict | None) -> dict[str, Any]:
    """Turn dotted keys (``sacct.now``) into nested tables; return a fresh dict."""
    out: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if isinstance(value, dict):
            value = normalize_options(value)
        parts = str(key).split(".")
        cur = out
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = cur[part] = {}
            cur = nxt
        if isinstance(value, dict) and isinstance(cur.get(parts[-1]), dict):
            cur[parts[-1]].update(value)
        else:
            cur[parts[-1]] = value
    return out


SECTION_NAMES = {
    "import", "importers", "nvidia-smi", "nvidia-smi-q", "dcgm", "codecarbon", "sacct", "electricitymaps",
    "boavizta-pcf", "vllm",
}
SECTION_NAMES |= {n.replace("-", "_") for n in SECTION_NAMES}


def effective_options(options: dict | None, kind: str) -> dict[str, Any]:
    """Flat options for one kind: top-level keys, then [import]/[importers], then [<kind>].

    A key in the table named after the kind (``[sacct]``, ``[nvidia-smi]``, ...) wins over the
    same key at top level, so ``host`` can be set once for everything or per kind. Tables named
    after other kinds are left out.
    """
    opts = normalize_options(options)
    kind_names = (kind, kind.replace("-", "_"))
    tables = [opts] + [opts[s] for s in ("import", "importers") if isinstance(opts.get(s), dict)]
    merged: dict[str, Any] = {}
    for table in tables:  # generic keys: top level, then [import] / [importers]
        merged.update({k: v for k, v in table.items() if k not in SECTION_NAMES})
    for table in tables:  # then [<kind>], [import.<kind>], [importers.<kind>]
        for name in kind_names:
            if isinstance(table.get(name), dict):
                merged.update(table[name])
    return merged


_UTC_NAMES = {"UTC", "ETC/UTC", "Z", "GMT", "ZULU"}


def _zone(name: str):
    return timezone.utc if name.upper() in _UTC_NAMES else ZoneInfo(name)


def tz_name(opts: dict[str, Any]) -> str:
    """The IANA zone naive timestamps are read in (option ``timezone``, default UTC)."""
    name = str(opts.get("timezone") or "UTC")
    if name.upper() in _UTC_NAMES:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ImporterError(f"option timezone={name!r} is not an IANA time zone (e.g. 'Europe/Oslo')") from exc
    return name


def parse_utc(text: str | None, tz: str = "UTC") -> datetime | None:
    """Parse an ISO-ish timestamp; a value with an offset is converted, a naive one is read in tz."""
    if text is None:
        return None
    s = str(text).strip()
    if not s:
        return None
    s2 = s.replace("/", "-")
    if s2.endswith("Z"):
        s2 = s2[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s2)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(tz))
    return dt.astimezone(timezone.utc)


def fmt_utc(dt: datetime | None) -> str | None:
    """Contract timestamp text: ISO 8601 UTC with a Z, microseconds only when present."""
    if dt is None:
        return None
    dt = dt.astimezone(timezone.utc)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# SQL twin of fmt_utc (on a TIMESTAMPTZ with the session in UTC).
SQL_FMT_UTC = (
    "CASE WHEN microsecond({0}) % 1000000 = 0 THEN strftime({0}, '%Y-%m-%dT%H:%M:%SZ') "
    "ELSE strftime({0}, '%Y-%m-%dT%H:%M:%S.%fZ') END"
)


def compile_rules(rules: Any, allowed_fields: Sequence[str], default_field: str, where: str) -> list[dict]:
    """Validate model/stage mapping rules: a list of {match, field, model, stage}."""
    if rules is None:
        return []
    if isinstance(rules, dict):
        rules = [rules]
    if not isinstance(rules, list):
        raise ImporterError(f"option {where}.rules must be a list of tables {{match, field, model, stage}}")
    allowed = {f.lower(): f for f in allowed_fields}
    out = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or "match" not in rule:
            raise ImporterError(f"option {where}.rules[{i}] needs a 'match' regex: {rule!r}")
        fld = str(rule.get("field", default_field))
        if fld.lower() not in allowed:
            raise ImporterError(
                f"option {where}.rules[{i}].field = {fld!r}; use one of {sorted(allowed.values())}"
            )
        try:
            rx = re.compile(str(rule["match"]))
        except re.error as exc:
            raise ImporterError(f"option {where}.rules[{i}].match is not a valid regex: {exc}") from exc
        out.append(
            {
                "rx": rx,
                "field": allowed[fld.lower()],
                "model": rule.get("model"),
                "stage": rule.get("stage"),
            }
        )
    return out


def apply_rules(rules: list[dict], values: dict[str, str | None]) -> tuple[str | None, str | None] | None:
    """First rule whose regex matches (re.search) its field gives (model, stage).

    ``model``/``stage`` may use the match's groups (``\\1``, ``\\g<name>``); a rule without
    ``model`` takes the named group ``model`` when the regex has one.
    """
    for rule in rules:
        value = values.get(rule["field"]) or ""
        m = rule["rx"].search(value)
        if not m:
            continue
        model = rule["model"]
        if model is not None:
            model = m.expand(str(model))
        elif "model" in rule["rx"].groupindex:
            model = m.group("model")
        stage = rule["stage"]
        if stage is not None:
            stage = m.expand(str(stage))
        elif "stage" in rule["rx"].groupindex:
            stage = m.group("stage")
        return model, stage
    return None


# --------------------------------------------------------------------------------------------
# files


def ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


@dataclass
class FileContext:
    """One file being imported: where it is, how to name its outputs, its options."""

    path: Path
    origin: str  # the original path as given, written to origin_file
    data_dir: Path
    kind: str
    options: dict[str, Any]
    out_stem: str  # <original-stem>, de-duplicated within one import
    record: ImportedFile

    def output_path(self, input_name: str) -> Path:
        return self.data_dir / input_name / f"{self.kind}__{self.out_stem}.csv"

    def default_host(self) -> str:
        """Host for telemetry that names none: option hosts[<file name or stem>], option host, file stem."""
        mapping = self.options.get("hosts")
        if isinstance(mapping, dict):
            for key in (self.path.name, self.path.stem):
                if key in mapping:
                    return str(mapping[key])
        return str(self.options.get("host") or self.path.stem)

    def note(self, text: str) -> None:
        if text not in self.record.notes:
            self.record.notes.append(text)


def _replace_atomically(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def write_rows(ctx: FileContext, input_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows (sequences in `columns` order) as CSV; returns the row count. None -> empty cell."""
    final = ctx.output_path(input_name)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=final.parent)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for row in rows:
                w.writerow(["" if v is None else _cell(v) for v in row])
                n += 1
        _replace_atomically(Path(tmp), final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    ctx.record.outputs[input_name] = final
    ctx.record.rows_written[input_name] = n
    return n


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if v == v else ""
    return v


def copy_query(ctx: FileContext, con: duckdb.DuckDBPyConnection, input_name: str, query: str) -> int:
    """COPY a query's result to the output CSV (header, NULL as empty); returns its row count."""
    final = ctx.output_path(input_name)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=final.parent)
    os.close(fd)
    try:
        con.execute(f"COPY ({query}) TO '{_sql_str(tmp)}' (FORMAT csv, HEADER true)")
        _replace_atomically(Path(tmp), final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
    ctx.record.outputs[input_name] = final
    ctx.record.rows_written[input_name] = int(n)
    return int(n)


# --------------------------------------------------------------------------------------------
# phases: every importer reads the original, normalises its rows and writes the primary output
# with these, so rows_out and rows_flagged are set the same way everywhere.


def write_primary(ctx: FileContext, input_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  flagged: int) -> None:
    """Write the primary output from Python rows; every row is one original row (rows_out)."""
    write_rows(ctx, input_name, columns, rows)
    ctx.record.rows_out = ctx.record.rows_written[input_name]
    ctx.record.rows_flagged = flagged


def copy_primary(ctx: FileContext, con: duckdb.DuckDBPyConnection, input_name: str, table: str = "result",
                 order_by: str = "origin_line", flagged_sql: str | None = None, select: str = "*") -> None:
    """COPY the normalised table to the primary output; flagged rows are those with import_error set."""
    copy_query(ctx, con, input_name, f"SELECT {select} FROM {table} ORDER BY {order_by}")
    ctx.record.rows_out = ctx.record.rows_written[input_name]
    ctx.record.rows_flagged = con.execute(
        flagged_sql or f"SELECT count(*) FROM {table} WHERE import_error IS NOT NULL"
    ).fetchone()[0]


def note_first(ctx: FileContext, notes: Sequence[str], limit: int, what: str) -> None:
    """The first `limit` notes, then one line counting the rest."""
    for n in notes[:limit]:
        ctx.note(n)
    if len(notes) > limit:
        ctx.note(f"... and {len(notes) - limit} more {what}")


def _sql_str(s: str | Path) -> str:
    return str(s).replace("'", "''")


def sql_literal(s: Any) -> str:
    if s is None:
        return "NULL"
    return "'" + str(s).replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose session time zone is UTC (so TIMESTAMPTZ prints in UTC)."""
    from ..resources import scratch  # the one place that sets session settings

    return scratch()


def load_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str = "lines") -> None:
    """Create `table(lineno BIGINT, line VARCHAR)`: every line of the file, 1-based, vectorised.

    CR at line ends and NUL bytes are removed; invalid UTF-8 is replaced (U+FFFD). Blank lines
    are kept (callers skip them), so `lineno` is the line number in the original file.
    """
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT lineno, rtrim(line, chr(13)) AS line
        FROM (
            SELECT generate_subscripts(l, 1)::BIGINT AS lineno, unnest(l) AS line
            FROM (SELECT string_split(replace(content, chr(0), ''), chr(10)) AS l FROM {{src}})
        )
    """
    try:
        con.execute(sql.format(src="read_text(?)"), [str(path)])
    except duckdb.Error:
        # Not valid UTF-8: decode in Python (C speed, no per-row loop) with replacement.
        text = path.read_bytes().decode("utf-8", errors="replace")
        con.execute(sql.format(src="(SELECT ?::VARCHAR AS content)"), [text])
    # a final newline leaves one empty trailing element: drop it so it is not a "line"
    con.execute(f"DELETE FROM {table} WHERE lineno = (SELECT max(lineno) FROM {table}) AND line = ''")


def unique_ids(ids: list[str | None], fallback: Callable[[int], str]) -> tuple[list[str], int]:
    """Make ids unique deterministically: repeats get '#2', '#3', ... in file order.

    Returns the new ids and how many were changed. Empty ids use fallback(index).
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    changed = 0
    for i, raw in enumerate(ids):
        base = raw if raw else fallback(i)
        k = seen.get(base, 0) + 1
        seen[base] = k
        if k == 1:
            out.append(base)
        else:
            out.append(f"{base}#{k}")
            changed += 1
    # a generated 'x#2' could collide with a real id 'x#2'; resolve by extending the suffix
    final: list[str] = []
    taken: set[str] = set()
    for s in out:
        t = s
        j = 2
        while t in taken:
            t = f"{s}#{j}"
            j += 1
        taken.add(t)
        final.append(t)
    return final, changed


def join_errors(*parts: str | None) -> str | None:
    errs = [p for p in parts if p]
    return "; ".join(errs) if errs else None
