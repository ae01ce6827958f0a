"""Reads input files into DuckDB: discovery, header checks, file hashes and the staging/quarantine split.

The typing and row checks are SQL (sql/staging/stg_<input>.sql); this module only builds the
`src` view those statements read and moves their result into staging, quarantine and audit tables
inside one transaction, so re-running a partition replaces it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from . import sql
from .contract import sha256_file  # noqa: F401  (re-exported: explain and tests import it from here)
from .inputs import INPUTS, InputSpec

log = logging.getLogger("lca.ingest")
# What the `lca` command prints: a quarantined file or a cascade must be seen, not only logged.
progress = logging.getLogger("lca.progress")

# (column, parent input, parent key): a row whose reference is unknown because the parent row was
# itself quarantined went with it in a cascade, and is quarantined with that reason instead.
CASCADES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "hosts": (("site", "sites", "site"),),
    "gpu_samples": (("host", "hosts", "host"),),
    "node_samples": (("host", "hosts", "host"),),
    "gpu_energy_minutes": (("host", "hosts", "host"),),
    "jobs": (("site", "sites", "site"),),
    "allocations": (("job_id", "jobs", "job_id"), ("host", "hosts", "host")),
    "hardware": (("site", "sites", "site"), ("host", "hosts", "host")),
    "energy_contracts": (("site", "sites", "site"),),
}

QA_COLUMNS = ("qa_column", "qa_reason", "qa_raw", "raw_row", "partition_day")
sql.register(
    "audit/insert_quarantine",
    "audit/delete_quarantine",
    "audit/delete_ingest_counts",
    "audit/insert_ingest_counts",
    "audit/delete_source_file",
    "audit/insert_source_file",
    "audit/cached_source_file",
    "audit/insert_file_quarantine",
    "audit/insert_file_ingest_count",
    "audit/files_staged_outside_window",
    "audit/restore_duplicate_counts",
    "audit/delete_duplicates",
    "audit/insert_duplicates",
    "audit/apply_duplicate_counts",
    "audit/refresh_source_file_counts",
    "audit/parquet_ts_range",
    "audit/source_file_paths",
    "audit/staged_input",
    "audit/delete_staged_input",
    "audit/insert_staged_input",
)
# Inputs whose duplicate keys the hourly energy step finds, not staging: it sorts every sample by
# device and time anyway, where a duplicate is a sample at its predecessor's time, while a hash
# aggregate over every key in staging cost 11 s of its 15 at 88M samples. Staging counts them as
# staged; the energy step's load moves them to the quarantine (record_duplicates).
DUPLICATES_IN_ENERGY_STEP = ("gpu_samples", "node_samples")
# DuckDB's default; a longer line is reported with its real line number instead of DuckDB's.
MAX_LINE_BYTES = 2_000_000
# Error text quoted from a file is cut here so a hostile file cannot flood the log.
MAX_QUOTE_CHARS = 200


class InputError(ValueError):
    """A problem with an input file that the user must fix; the message names file and fix."""


class ContractError(InputError):
    """A file that lacks a required column: a contract mistake that stops the run, not a corrupt file."""


@dataclass
class SourceFile:
    path: Path
    fmt: str  # "csv" or "parquet"
    columns: dict[str, str] = field(default_factory=dict)  # contract name -> name in the file
    header: list[str] = field(default_factory=list)  # a CSV's header names, as read


@dataclass
class FileProblem:
    """A file quarantined whole: unreadable, empty, corrupt, refused or missing a required column."""

    path: Path
    fmt: str
    reason: str
    rows: int = 0  # data rows it holds as far as they can be counted (0 when unknown)


@dataclass
class StageResult:
    input: str
    files: int
    rows_staged: int
    rows_quarantined: int
    reasons: dict[str, int]
    content_hash: str = ""
    files_quarantined: list[FileProblem] = field(default_factory=list)
    # The run whose staging was kept because nothing it depended on changed (unpartitioned inputs).
    kept_from_run: str | None = None


def discover(data_dirs: list[Path], name: str) -> list[Path]:
    """Files for one input: DIR/<name>/**.{csv,parquet} or DIR/<name>.{csv,parquet}, sorted."""
    found: list[Path] = []
    for root in data_dirs:
        folder = root / name
        if folder.is_dir():
            found += [
                p
                for p in sorted(folder.rglob("*"))
                if p.is_file() and p.suffix.lower() in (".csv", ".parquet") and not p.name.startswith(".")
            ]
        for suffix in (".csv", ".parquet"):
            single = root / f"{name}{suffix}"
            if single.is_file():
                found.append(single)
    return found


def _normalise(name: str) -> str:
    return name.strip().lower()


def literal_path(path: Path | str) -> str:
    """The path as DuckDB must be given it to read exactly that file: glob characters escaped.

    DuckDB expands `*`, `?` and `[...]` in a file name, so `part-2024-03-0?.parquet` would read
    every day file; `[c]` matches the character c alone.
    """
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def _quote(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS] + "..."


def outside_roots(path: Path, roots: list[Path]) -> bool:
    """True when the path (a symlink, or below one) resolves outside every data folder."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return True
    for root in roots:
        try:
            real.relative_to(Path(root).resolve())
            return False
        except ValueError:
            continue
    return True


def csv_header(path: Path) -> list[str]:
    """The header line's column names, read with the contract's dialect (comma, double quote)."""
    with open(path, "rb") as fh:
        head = fh.readline(MAX_LINE_BYTES + 1)
    try:
        first = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"line 1 (the header) is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    if len(head) > MAX_LINE_BYTES:
        raise InputError(f"line 1 (the header) is longer than {MAX_LINE_BYTES} bytes")
    names = next(csv.reader([first]), [])
    if not first.strip() or not any(n.strip() for n in names):
        raise InputError("no header line (the file is empty or starts with a blank line)")
    return names


def _csv_columns(names: list[str]) -> dict[str, str]:
    """DuckDB column definitions for the header: every column text, duplicate names made unique."""
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        key = name if name.strip() else f"column{i}"
        while key in out:
            key = f"{key}_{i}"
        out[key] = "VARCHAR"
    return out


def read_file(conn: duckdb.DuckDBPyConnection, path: Path, fmt: str, header: list[str] | None = None,
              row_number: bool = False):
    """A relation over exactly this file (no globbing); CSV without sniffing: comma, double quote."""
    if fmt == "parquet":
        return conn.read_parquet(literal_path(path), file_row_number=row_number)
    names = header if header is not None else csv_header(path)
    return conn.read_csv(
        literal_path(path), header=True, auto_detect=False, columns=_csv_columns(names),
        delimiter=",", quotechar='"', escapechar='"', max_line_size=MAX_LINE_BYTES,
    )


def _csv_problem(path: Path, width: int) -> str | None:
    """The first line DuckDB cannot read, found again in Python so the message has the real line."""
    csv.field_size_limit(2**31 - 1)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for row in reader:
                if reader.line_num == 1 or not row:
                    continue
                if len(row) != width:
                    return f"line {reader.line_num} has {len(row)} fields, the header has {width} (unquoted comma?)"
                if sum(len(v) for v in row) > MAX_LINE_BYTES:
                    return f"line {reader.line_num} is longer than {MAX_LINE_BYTES} bytes"
    except UnicodeDecodeError as exc:
        with open(path, "rb") as fh:
            line = fh.read(exc.start).count(b"\n") + 1
        return f"line {line} is not UTF-8 text; save the file as UTF-8"
    except csv.Error as exc:
        return f"line {reader.line_num}: {_quote(str(exc))}"
    return None


def inspect_file(conn: duckdb.DuckDBPyConnection, path: Path, spec: InputSpec,
                 roots: list[Path] | None = None) -> SourceFile:
    """Map the file's columns onto the contract; anything that stops it being read is an InputError.

    The message never quotes a file outside the data folders: such a symlink is refused unread.
    """
    fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    if roots is not None and outside_roots(path, roots):
        raise InputError("refused: a symlink to a file outside the data folder (copy the file in instead)")
    try:
        if path.stat().st_size == 0:
            raise InputError(f"file is empty; expected a header with columns {list(spec.required)}")
        header = csv_header(path) if fmt == "csv" else None
        rel = read_file(conn, path, fmt, header)
        names = rel.columns
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}") from exc
    except duckdb.Error as exc:
        raise InputError(f"cannot be read as {fmt.upper()}: {_quote(str(exc).splitlines()[0])}") from exc
    by_norm = {}
    for col in names:
        by_norm.setdefault(_normalise(col), col)
    missing = [c for c in spec.required if c not in by_norm]
    if missing:
        raise ContractError(
            f"{path}: missing required column {missing[0]!r} for input '{spec.name}' "
            f"(required: {', '.join(spec.required)}; found: {_quote(', '.join(names))}). "
            f"Fix: add or rename the column, see docs/data-contract.md#{spec.name}"
        )
    return SourceFile(path, fmt, {c: by_norm[c] for c in spec.columns if c in by_norm}, header or [])


def try_read(conn: duckdb.DuckDBPyConnection, path: Path, roots: list[Path]):
    """A relation over the file, or None when staging will quarantine it (refused, empty, unreadable)."""
    if outside_roots(path, roots):
        return None
    fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    try:
        return read_file(conn, path, fmt)
    except (InputError, duckdb.Error, OSError):
        return None


def _count_rows(conn: duckdb.DuckDBPyConnection, f: SourceFile) -> int:
    """Data rows of the file; for CSV every value is parsed, so a broken line is found here."""
    rel = read_file(conn, f.path, f.fmt, f.header or None)
    if f.fmt == "parquet":
        return int(rel.aggregate("count(*)").fetchall()[0][0])
    try:
        # Counting one column per field makes DuckDB parse (and check the encoding of) every value.
        counts = ", ".join(f"count({duckdb.ColumnExpression(c)})" for c in rel.columns)
        return int(rel.aggregate(f"count(*), {counts}").fetchall()[0][0])
    except duckdb.Error as exc:
        where = _csv_problem(f.path, len(f.header)) or _quote(str(exc).splitlines()[0])
        raise InputError(f"cannot be read as CSV: {where}") from exc


def _line_count(path: Path) -> int:
    """Data lines of a text file (newlines after the header), for the accounting of a quarantined file."""
    try:
        with open(path, "rb") as fh:
            fh.readline()
            return sum(1 for line in fh if line.strip())  # streamed: a broken file may be huge
    except OSError:
        return 0


def _relation(conn: duckdb.DuckDBPyConnection, f: SourceFile, spec: InputSpec, as_text: bool):
    if f.fmt == "csv":
        rel = read_file(conn, f.path, f.fmt, f.header)
        row = duckdb.SQLExpression("row_number() OVER ()")
    else:
        rel = read_file(conn, f.path, f.fmt, row_number=True)
        row = duckdb.SQLExpression("file_row_number + 1")
    exprs = [
        duckdb.ConstantExpression(str(f.path)).alias("source_file"),
        row.cast(duckdb.sqltype("BIGINT")).alias("source_row"),
    ]
    for col in spec.columns:
        if col in f.columns:
            e = duckdb.ColumnExpression(f.columns[col])
            if as_text:
                e = e.cast(duckdb.sqltype("VARCHAR"))
        else:
            e = duckdb.ConstantExpression(None).cast(duckdb.sqltype("VARCHAR"))
        exprs.append(e.alias(col))
    return rel.project(*exprs)


def source_view_name(spec: InputSpec) -> str:
    """The view a staging statement reads: telemetry gets its own name, since the hourly energy step
    reads all three telemetry inputs' files in one statement."""
    return f"src_{spec.name}" if spec.partitioned else "src"


def build_source_view(conn: duckdb.DuckDBPyConnection, files: list[SourceFile], spec: InputSpec) -> None:
    """Create the temp view `src` (`src_<input>` for telemetry): every file's rows in contract columns
    plus source_file/source_row."""
    # Typed Parquet columns stay typed (cheap at telemetry scale) unless files of mixed formats
    # or column types must share one union, where everything is read as text and typed in SQL.
    rels = [_relation(conn, f, spec, as_text=False) for f in files]
    if len({tuple(r.types) for r in rels}) > 1:
        rels = [_relation(conn, f, spec, as_text=True) for f in files]
    if not rels:
        empty = conn.sql("SELECT NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row WHERE false")
        exprs = [duckdb.ColumnExpression("source_file"), duckdb.ColumnExpression("source_row")]
        exprs += [duckdb.ConstantExpression(None).cast(duckdb.sqltype("VARCHAR")).alias(c) for c in spec.columns]
        rels = [empty.project(*exprs)]
    view = rels[0]
    for rel in rels[1:]:
        view = view.union(rel)
    view.create_view(source_view_name(spec), replace=True)


def _cached_identity(conn: duckdb.DuckDBPyConnection, input_name: str, path: Path) -> tuple[str, int] | None:
    """sha256 and row count from audit.source_files, while the file's size and mtime are unchanged."""
    st = path.stat()
    mtime = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).replace(tzinfo=None)
    cached = sql.execute(
        conn,
        "audit/cached_source_file",
        {"input": input_name, "path": str(path), "bytes": st.st_size, "mtime": mtime},
    ).fetchall()
    if cached and cached[0][0] is not None:
        return cached[0][0], cached[0][1]
    return None


def _hashes(todo: list[Path]) -> dict[Path, Future]:
    """sha256 of the files not hashed before, computed on every core at once (hashlib releases the
    GIL while it hashes): a new day's telemetry files are hundreds of MB."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1)))
    try:
        return {path: pool.submit(_settled_sha256, path) for path in todo}
    finally:
        pool.shutdown(wait=False)


def _settled_sha256(path: Path, tries: int = 3) -> str:
    """sha256 of a file whose size and mtime did not change while it was hashed (a file still being
    written is hashed again), so the hash recorded belongs to the size and mtime recorded."""
    for _ in range(tries):
        before = path.stat()
        digest = sha256_file(path)
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            return digest
    return digest


def _file_identity(conn: duckdb.DuckDBPyConnection, f: SourceFile, cached: tuple[str, int] | None,
                   hashing: dict[Path, Future]) -> tuple[str, int, int]:
    """sha256 and row count: those recorded while size and mtime are unchanged, else computed."""
    size = f.path.stat().st_size
    if cached is not None:
        return cached[0], cached[1], size
    future = hashing.get(f.path)
    return (future.result() if future else sha256_file(f.path)), _count_rows(conn, f), size


def _files_for_window(conn: duckdb.DuckDBPyConnection, input_name: str, paths: list[Path],
                      window: tuple[datetime, datetime], data_window: tuple[datetime, datetime]) -> list[Path]:
    """The files that may hold rows of the window: all but those staged in full before, unchanged
    since and with no row in it (audit/files_staged_outside_window), and Parquet files whose `ts`
    statistics show no row in it (below)."""
    done = {
        path: (size, mtime)
        for path, size, mtime in sql.execute(
            conn, "audit/files_staged_outside_window",
            {"input": input_name, "window_start": window[0], "window_end": window[1]},
        ).fetchall()
    }
    recorded = {p for (p,) in sql.execute(conn, "audit/source_file_paths", {"input": input_name}).fetchall()}
    keep, candidates = [], []
    for path in paths:
        seen = done.get(str(path))
        if seen is not None:
            st = path.stat()
            if (st.st_size, datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).replace(tzinfo=None)) == seen:
                continue
        # A file not staged in full can still be left unread when its footer proves it has no row of
        # the window: a backfill one day at a time would otherwise read every later day's files in
        # every run. Only a file never recorded, or recorded and unchanged, qualifies: a changed one
        # must be read to account for it again.
        unchanged = str(path) not in recorded or _cached_identity(conn, input_name, path) is not None
        if unchanged and path.suffix.lower() == ".parquet":
            candidates.append(path)
        else:
            keep.append(path)
    ranges = _ts_ranges(conn, candidates)
    outside = {p for p in candidates if _outside(ranges.get(str(p)), window, data_window)}
    wanted = set(keep) | (set(candidates) - outside)
    return [p for p in paths if p in wanted]


def _ts_ranges(conn: duckdb.DuckDBPyConnection, paths: list[Path]) -> dict[str, tuple[Any, Any]]:
    """{path: (first ts, last ts)} from the Parquet footers' statistics, all files in one query (one
    query per file cost 4 ms each: 1.3 s per run for a backfill with 300 later files present). A file
    whose footer cannot be read has no entry: staging reads it, and quarantines it with the reason."""
    if not paths:
        return {}
    try:
        rows = sql.execute(conn, "audit/parquet_ts_range", {"paths": [literal_path(p) for p in paths]}).fetchall()
    except (duckdb.Error, OSError):
        if len(paths) == 1:
            return {}
        out: dict[str, tuple[Any, Any]] = {}
        for path in paths:  # find the file that cannot be read; keep the others' ranges
            out.update(_ts_ranges(conn, [path]))
        return out
    return {name: (first, last) for name, first, last in rows}


def _outside(ts_range: tuple[Any, Any] | None, window: tuple[datetime, datetime],
             data_window: tuple[datetime, datetime]) -> bool:
    """True when a file's `ts` range is known, inside the data window and outside `window` (rows
    outside the data window, or without ts, are quarantined by every window's staging)."""
    if ts_range is None or ts_range[0] is None or ts_range[1] is None:
        return False
    first, last = ts_range
    inside_data = first >= data_window[0] and last < data_window[1]
    return inside_data and (last < window[0] or first >= window[1])


def open_files(conn: duckdb.DuckDBPyConnection, input_name: str, paths: list[Path], roots: list[Path]
               ) -> tuple[list[SourceFile], dict[Path, tuple[str, int, int]], list[FileProblem]]:
    """Inspect and count every file; one that cannot be staged becomes a FileProblem, not an error."""
    spec = INPUTS[input_name]
    files: list[SourceFile] = []
    identities: dict[Path, tuple[str, int, int]] = {}
    problems: list[FileProblem] = []
    # Each file's recorded identity is looked up once; the files without one are hashed meanwhile.
    cached: dict[Path, tuple[str, int] | None] = {}
    for path in paths:
        try:
            if not outside_roots(path, roots):
                cached[path] = _cached_identity(conn, input_name, path)
        except OSError:
            continue  # inspect_file below quarantines it with the reason
    hashing = _hashes([p for p, c in cached.items() if c is None])
    for path in paths:
        fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
        try:
            f = inspect_file(conn, path, spec, roots)
            identities[path] = _file_identity(conn, f, cached.get(path), hashing)
            files.append(f)
        except ContractError:
            raise
        except (InputError, duckdb.Error, OSError) as exc:
            reason = str(exc) if isinstance(exc, InputError) else _quote(str(exc).splitlines()[0])
            refused = reason.startswith("refused")
            rows = 0 if refused or fmt == "parquet" else _line_count(path)
            problems.append(FileProblem(path, fmt, f"whole file quarantined: {reason}", rows))
            progress.warning("%s: %s", path, problems[-1].reason)
    return files, identities, problems


def stage_input(
    conn: duckdb.DuckDBPyConnection,
    input_name: str,
    data_dirs: list[Path],
    params: dict[str, Any],
    run_id: str,
    window: tuple[datetime, datetime] | None = None,
) -> StageResult:
    """Stage one input (for one time window when partitioned): typed rows in, bad rows quarantined."""
    spec = INPUTS[input_name]
    paths = discover(data_dirs, input_name)
    if spec.partitioned and window is not None:
        paths = _files_for_window(conn, input_name, paths, window, (params["data_start"], params["data_end"]))
    files, identities, problems = open_files(conn, input_name, paths, data_dirs)
    key = None
    if not spec.partitioned:
        # A nightly run would otherwise read every small input's whole history again (a year of
        # sacct exports, hourly grid data) to rebuild identical tables.
        key = _stage_key(conn, input_name, files, identities, problems, params)
        kept = _kept_staging(conn, input_name, key, params)
        if kept is not None:
            return kept
    build_source_view(conn, files, spec)
    window_start, window_end = window if window else (None, None)
    bound = {
        **params,
        "input": input_name,
        "run_id": run_id,
        "window_start": window_start,
        "window_end": window_end,
    }
    table = f"staging.{input_name}"
    if spec.partitioned:
        bound.update(stage_start=window_start, stage_end=window_end,
                     find_duplicates=input_name not in DUPLICATES_IN_ENERGY_STEP)
    build = _build_stg_groups if spec.partitioned else _build_stg
    try:
        build(conn, input_name, bound)
    except duckdb.Error:
        # A file whose header and metadata read fine can still be broken inside (a corrupt Parquet
        # page): find it by reading each file whole, quarantine it, and stage the others.
        broken = _probe(conn, files, identities)
        if not broken:
            raise
        problems += broken
        files = [f for f in files if f.path not in {b.path for b in broken}]
        build_source_view(conn, files, spec)
        build(conn, input_name, bound)
    _mark_cascades(conn, input_name)
    conn.execute("BEGIN TRANSACTION")
    try:
        if spec.partitioned:
            # Telemetry rows are not copied: the table is the per day, file and host summary of the
            # rows that passed, and the hourly energy step reads those rows from the files again.
            _ensure_table(conn, table, _SUMMARY)
            conn.execute(
                f"DELETE FROM {table} WHERE partition_day >= CAST($s AS DATE) AND partition_day < CAST($e AS DATE)",
                {"s": window_start, "e": window_end},
            )
            conn.execute(f"INSERT INTO {table} BY NAME {_SUMMARY} ORDER BY partition_day, source_file, host")
        else:
            _ensure_table(conn, table, f"SELECT * EXCLUDE ({', '.join(QA_COLUMNS)}) FROM _stg")
            conn.execute(f"DELETE FROM {table}")
            # Small inputs keep file order, so everything computed from them adds up in one order
            # (byte-identical reruns).
            conn.execute(
                f"INSERT INTO {table} BY NAME SELECT * EXCLUDE ({', '.join(QA_COLUMNS)}) "
                "FROM _stg WHERE qa_reason IS NULL ORDER BY source_file, source_row"
            )
            conn.execute(
                "CREATE OR REPLACE TEMP TABLE _stg_counts AS SELECT source_file, partition_day, "
                "count(*) FILTER (WHERE qa_reason IS NULL) AS rows_staged, "
                "count(*) FILTER (WHERE qa_reason IS NOT NULL) AS rows_quarantined FROM _stg GROUP BY ALL"
            )
        for name in ("audit/delete_quarantine", "audit/insert_quarantine",
                     "audit/delete_ingest_counts", "audit/insert_ingest_counts"):
            sql.execute(conn, name, bound)
        for f in files:
            sha, rows_read, size = identities[f.path]
            file_params = {
                **bound,
                "path": str(f.path),
                "sha256": sha,
                "bytes": size,
                "mtime": datetime.fromtimestamp(f.path.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None),
                "rows_read": rows_read,
                "format": f.fmt,
            }
            sql.execute(conn, "audit/delete_source_file", file_params)
            sql.execute(conn, "audit/insert_source_file", file_params)
        for p in problems:
            _record_file_problem(conn, bound, p)
        staged, quarantined = conn.execute(
            "SELECT coalesce(sum(rows_staged), 0), coalesce(sum(rows_quarantined), 0) FROM _stg_counts"
        ).fetchall()[0]
        reasons = dict(
            conn.execute(
                "SELECT qa_reason, count(*) FROM _stg WHERE qa_reason IS NOT NULL GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        for p in problems:
            quarantined += p.rows
            reasons[p.reason] = reasons.get(p.reason, 0) + max(p.rows, 1)
        content = hashlib.sha256(
            "".join(f"{f.path}\0{identities[f.path][0]}\n" for f in files).encode()
            + "".join(f"{p.path}\0{p.reason}\n" for p in problems).encode()
        ).hexdigest()[:16]
        result = StageResult(input_name, len(files), int(staged), int(quarantined), reasons, content, problems)
        if key is not None:
            # In the transaction that writes the table: the key always describes the table there.
            record = {"input": input_name, "stage_key": key, "run_id": run_id, "files": result.files,
                      "rows_staged": result.rows_staged, "rows_quarantined": result.rows_quarantined,
                      "reasons_json": json.dumps(reasons, sort_keys=True), "content_hash": content,
                      "data_start": params["data_start"], "data_end": params["data_end"]}
            sql.execute(conn, "audit/delete_staged_input", record)
            sql.execute(conn, "audit/insert_staged_input", record)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    for temp in ("_stg", "_stg_groups", "_stg_counts"):
        conn.execute(f"DROP TABLE IF EXISTS {temp}")
    # the view names files of this run only: never left behind
    conn.execute(f"DROP VIEW IF EXISTS {source_view_name(spec)}")
    return result


@functools.cache
def _reader_version() -> str:
    """The code that reads and types input files besides each staging statement (this module, the
    input specs, the contract) and DuckDB's version: a change to any re-stages every input."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    here = Path(__file__).resolve().parent
    for name in ("ingest.py", "inputs.py", "contract.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _stage_key(conn: duckdb.DuckDBPyConnection, input_name: str, files: list[SourceFile],
               identities: dict[Path, tuple[str, int, int]], problems: list[FileProblem],
               params: dict[str, Any]) -> str:
    """What an unpartitioned input's staged table depends on, as one hash: every file (path, format,
    column mapping, sha256), every file that could not be read and why, the staging statement, the
    settings, the reader's code, and the keys of the inputs it is checked against (spec.deps: a site
    quarantined in `sites` quarantines the jobs there, so a changed `sites` re-stages `jobs`). The data
    window is not in it: _kept_staging compares it apart."""
    digest = hashlib.sha256(_reader_version().encode())
    digest.update(sql.code_version([f"staging/stg_{input_name}"]).encode())
    settings = {k: str(v) for k, v in params.items() if k not in _WINDOW_PARAMS}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for f in sorted(files, key=lambda f: str(f.path)):
        sha = identities[f.path][0]
        digest.update(f"file\0{f.path}\0{f.fmt}\0{sorted(f.columns.items())}\0{f.header}\0{sha}\n".encode())
    for p in sorted(problems, key=lambda p: (str(p.path), p.reason)):
        digest.update(f"problem\0{p.path}\0{p.reason}\0{p.rows}\n".encode())
    for parent in INPUTS[input_name].deps:
        # The run that last wrote the parent's table, not only its key: a parent staged again under the
        # same key (its data window moved) may have staged rows it quarantined before.
        row = sql.execute(conn, "audit/staged_input", {"input": parent}).fetchall()
        written = f"{row[0][0]}\0{row[0][1]}" if row else ""
        digest.update(f"parent\0{parent}\0{written}\n".encode())
    return digest.hexdigest()


# The data window's parameters; the default window ends tomorrow, so they change every day.
_WINDOW_PARAMS = ("data_start", "data_end", "data_window")


def _kept_staging(conn: duckdb.DuckDBPyConnection, input_name: str, key: str,
                  params: dict[str, Any]) -> StageResult | None:
    """The last staging's result when its key equals this one, its table is there and the data window
    gives the same rows, else None.

    The window gives the same rows when it is the same, or when it only grew and no row of the input
    was outside the old one: every row was inside it, so inside the new one, and the window appears
    only in the 'outside the data window' check (and its reason text)."""
    if not table_exists(conn, f"staging.{input_name}"):
        return None
    row = sql.execute(conn, "audit/staged_input", {"input": input_name}).fetchall()
    if not row or row[0][0] != key:
        return None
    _, run_id, files, staged, quarantined, reasons_json, content, start, end = row[0]
    reasons = json.loads(reasons_json)
    # From the recorded reasons, not audit.quarantine: that table holds every bad telemetry sample too.
    outside = sum(n for reason, n in reasons.items() if reason.startswith("outside the data window"))
    same = (start, end) == (params["data_start"], params["data_end"])
    grown = start is not None and params["data_start"] <= start and params["data_end"] >= end
    if not (same or (grown and outside == 0)):
        return None
    return StageResult(input_name, int(files), int(staged), int(quarantined), reasons, content, kept_from_run=run_id)


def _record_file_problem(conn: duckdb.DuckDBPyConnection, bound: dict[str, Any], p: FileProblem) -> None:
    """One audit.quarantine row (source_row NULL) and the file's accounting: all its rows quarantined."""
    try:
        st = p.path.lstat()
        size, mtime = st.st_size, datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).replace(tzinfo=None)
    except OSError:
        size, mtime = None, None
    params = {
        **bound, "path": str(p.path), "reason": p.reason, "rows": p.rows, "sha256": None, "bytes": size,
        "mtime": mtime, "rows_read": p.rows, "format": p.fmt,
    }
    for name in ("audit/insert_file_quarantine", "audit/insert_file_ingest_count",
                 "audit/delete_source_file", "audit/insert_source_file"):
        sql.execute(conn, name, params)


def _build_stg(conn: duckdb.DuckDBPyConnection, input_name: str, bound: dict[str, Any]) -> None:
    # Each staging statement ends in its typed columns plus `qa` (the first failed check as a
    # struct) and `raw` (the row as read); the quarantine columns are unpacked here, once.
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _stg AS SELECT * EXCLUDE (qa, raw), qa.col AS qa_column, "
        "qa.reason AS qa_reason, qa.raw AS qa_raw, CASE WHEN qa IS NOT NULL THEN to_json(raw) END AS raw_row "
        f"FROM ({sql.wrapped(f'staging/stg_{input_name}')})",
        sql.params_for(f"staging/stg_{input_name}", bound),
    )


# A telemetry staging table: per UTC day, file and host, the rows that passed and their time span.
_SUMMARY = (
    "SELECT partition_day, source_file, host, rows AS rows_staged, first_ts, last_ts "
    "FROM _stg_groups WHERE valid"
)


def _build_stg_groups(conn: duckdb.DuckDBPyConnection, input_name: str, bound: dict[str, Any]) -> None:
    # One pass over the files that keeps only what the warehouse needs: per day, file and host the
    # count and time span of the rows that passed, and the failed rows themselves (for the
    # quarantine), as lists that are unpacked into `_stg` with the quarantine's columns.
    # The failed rows keep only what the quarantine needs (row, check, raw values): a struct of every
    # column, built for every row before the FILTER, cost 0.3 s more per 88M samples.
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _stg_groups AS SELECT partition_day, source_file, host, "
        "qa IS NULL AS valid, count(*) AS rows, min(ts) AS first_ts, max(ts) AS last_ts, "
        "list({'source_row': source_row, 'qa': qa, 'raw': raw}) FILTER (WHERE qa IS NOT NULL) AS bad "
        f"FROM ({sql.wrapped(f'staging/stg_{input_name}')}) AS s GROUP BY ALL",
        sql.params_for(f"staging/stg_{input_name}", bound),
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _stg AS SELECT source_file, partition_day, b.source_row AS source_row, "
        "b.qa.col AS qa_column, b.qa.reason AS qa_reason, b.qa.raw AS qa_raw, to_json(b.raw) AS raw_row "
        "FROM (SELECT source_file, partition_day, unnest(bad) AS b FROM _stg_groups WHERE NOT valid)"
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _stg_counts AS SELECT source_file, partition_day, "
        "coalesce(sum(rows) FILTER (WHERE valid), 0) AS rows_staged, "
        "coalesce(sum(rows) FILTER (WHERE NOT valid), 0) AS rows_quarantined FROM _stg_groups GROUP BY ALL"
    )


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `schema.name` exists in the connection's database."""
    schema, name = table.split(".")
    return bool(conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name]).fetchall()[0][0])


def validated_ctes(conn: duckdb.DuckDBPyConnection, inputs: tuple[str, ...], data_dirs: list[Path],
                   params: dict[str, Any], start: datetime | None, end: datetime | None,
                   find_duplicates: bool = False) -> tuple[str, dict[str, Any]]:
    """CTEs `valid_<input>`: the rows of each telemetry input that pass its staging statement, read
    from the files again, with the parameters they need.

    The window reaches back by [telemetry] max_gap_s and one minute, so the first interval of the
    day has its previous sample. Only files whose staging summary has rows in those days are read.
    Without a window (start None) every staged row is read. Duplicate keys are removed (the first
    by file and row kept) when `find_duplicates` is set or the quarantine already holds some in
    these days; otherwise the statement must detect them itself (see DUPLICATES_IN_ENERGY_STEP).
    """
    stage_start = None if start is None else start - timedelta(seconds=float(params["max_gap_s"]) + 60)
    # Duplicate keys quarantined in these days (by staging for the roll-up input, by an earlier run of
    # the hourly energy step for samples): the statement then resolves them at once.
    duplicates = conn.execute(
        "SELECT count(*) > 0 FROM audit.quarantine WHERE list_contains($inputs, input) "
        "AND starts_with(reason, 'duplicate key') AND (CAST($s AS DATE) IS NULL "
        "OR (partition_day >= CAST($s AS DATE) AND partition_day < CAST($e AS DATE)))",
        {"inputs": list(inputs), "s": stage_start, "e": end},
    ).fetchall()[0][0]
    bound = {**params, "stage_start": stage_start, "stage_end": end,
             "find_duplicates": bool(duplicates or find_duplicates)}
    ctes = []
    for name in inputs:
        spec = INPUTS[name]
        wanted: dict[str, bool] = {}  # file -> holds rows of the window itself (not only the look-back)
        if table_exists(conn, f"staging.{name}"):
            wanted = dict(conn.execute(
                f"SELECT source_file, bool_or(CAST($w AS DATE) IS NULL OR partition_day >= CAST($w AS DATE)) "
                f"FROM staging.{name} WHERE CAST($s AS DATE) IS NULL "
                "OR (partition_day >= CAST($s AS DATE) AND partition_day < CAST($e AS DATE)) GROUP BY 1",
                {"s": stage_start, "e": end, "w": start},
            ).fetchall())
        paths = [p for p in discover(data_dirs, name) if str(p) in wanted]
        found = {str(p) for p in paths}
        # A file only needed for the look-back into the previous day may have been retired since:
        # that day's first interval then starts at its first sample of the window, as when no
        # sample precedes it.
        for path in sorted(p for p, own in wanted.items() if not own and p not in found):
            progress.warning("%s: staged earlier but gone; the first interval of %s starts without it",
                             path, start.date() if start else "the window")
        # Files staging could not read were quarantined whole and have no staged rows: none is here,
        # so a problem now means the file moved or changed since staging; its energy must not vanish.
        files, _, problems = open_files(conn, name, paths, data_dirs)
        missing = sorted(p for p, own in wanted.items() if own and p not in found)
        if missing or problems:
            where = missing[0] if missing else f"{problems[0].path} ({problems[0].reason})"
            raise InputError(
                f"{where}: staged as {name} input but cannot be read now; restore the file, or re-run "
                f"staging.{name} for its days so the accounting matches the files"
            )
        build_source_view(conn, files, spec)
        stmt = f"staging/stg_{name}"
        bound.update(sql.params_for(stmt, bound))
        ctes.append(f"valid_{name} AS NOT MATERIALIZED (SELECT * EXCLUDE (qa, raw) FROM ({sql.wrapped(stmt)}) WHERE qa IS NULL)")
    return ",\n".join(ctes), bound


def duplicate_rows(conn: duckdb.DuckDBPyConnection, inputs: tuple[str, ...], bound: dict[str, Any],
                   day_start: datetime, day_end: datetime) -> duckdb.DuckDBPyRelation:
    """The quarantine rows of the duplicate samples of days [day_start, day_end), from the source views
    and parameters validated_ctes made with find_duplicates set.

    Only rows of the (file, day) pairs staging counted (the staging summary) are quarantined here, as
    only those are integrated: a file opened for one day can hold rows of a day not staged yet, whose
    counts do not exist to move them from."""
    selects, params = [], {}
    for name in inputs:
        if name not in DUPLICATES_IN_ENERGY_STEP:
            continue
        stmt = f"staging/stg_{name}"
        params.update(sql.params_for(stmt, bound))
        params[f"input_{len(selects)}"] = name
        selects.append(
            f"SELECT CAST($input_{len(selects)} AS VARCHAR) AS input, source_file, source_row, qa.col AS column_name, qa.reason AS reason, "
            f"qa.raw AS raw_value, to_json(raw) AS raw_row, partition_day FROM ({sql.wrapped(stmt)}) "
            "WHERE starts_with(qa.reason, 'duplicate key') AND partition_day >= CAST($day_start AS DATE) "
            "AND partition_day < CAST($day_end AS DATE) "
            f"AND (source_file, partition_day) IN (SELECT (source_file, partition_day) FROM staging.{name})")
    params.update(day_start=day_start, day_end=day_end)
    return conn.sql(" UNION ALL ".join(selects), params=params)


def record_duplicates(conn: duckdb.DuckDBPyConnection, inputs: tuple[str, ...], paths: list[str],
                      start: datetime, end: datetime, run_id: str) -> int:
    """Inside the caller's transaction: the window's duplicate samples become those in the Parquet files
    the energy slices wrote, moved from staged to quarantined in every count (idempotent: the earlier
    run's are given back first). Returns how many."""
    names = [n for n in inputs if n in DUPLICATES_IN_ENERGY_STEP]
    params = {"inputs": names, "window_start": start, "window_end": end, "run_id": run_id}
    staged = [n for n in names if table_exists(conn, f"staging.{n}")]
    for name in staged:
        _move_summary_rows(conn, name, _OLD_DUPLICATES, "+", {"s": start, "e": end})
    sql.execute(conn, "audit/restore_duplicate_counts", params)
    sql.execute(conn, "audit/delete_duplicates", params)
    found = 0
    if paths:
        conn.execute("CREATE OR REPLACE TEMP TABLE _duplicates AS SELECT * FROM read_parquet($p)", {"p": paths})
        found = int(conn.execute("SELECT count(*) FROM _duplicates").fetchall()[0][0])
        sql.execute(conn, "audit/insert_duplicates", params)
        sql.execute(conn, "audit/apply_duplicate_counts", params)
        for name in staged:
            _move_summary_rows(conn, name, "_duplicates", "-", {})
        conn.execute("DROP TABLE _duplicates")
    sql.execute(conn, "audit/refresh_source_file_counts", params)
    return found


def summary_as_staged(name: str) -> str:
    """A SELECT of staging.<name>'s summary rows of days [$s, $e) as staging wrote them: with the
    duplicate samples an energy run has since moved to the quarantine counted again, so that the
    energy step reads their files once more (and finds them again)."""
    rows = (f"SELECT partition_day, source_file, host, rows_staged, first_ts, last_ts FROM staging.{name} "
            "WHERE partition_day >= CAST($s AS DATE) AND partition_day < CAST($e AS DATE)")
    if name not in DUPLICATES_IN_ENERGY_STEP:
        return rows
    return (f"SELECT partition_day, source_file, host, CAST(sum(rows_staged) AS BIGINT) AS rows_staged, "
            f"min(first_ts) AS first_ts, max(last_ts) AS last_ts FROM ({rows} UNION ALL "
            f"SELECT partition_day, source_file, host, n, first_ts, last_ts FROM ({_duplicate_groups(_OLD_DUPLICATES)})) "
            "GROUP BY ALL")


_HOST = "trim(json_extract_string(raw_row, '$.host'))"
_OLD_DUPLICATES = (
    "(SELECT * FROM audit.quarantine WHERE input = $input AND starts_with(reason, 'duplicate key') "
    "AND partition_day >= CAST($s AS DATE) AND partition_day < CAST($e AS DATE))")


def _duplicate_groups(rows: str) -> str:
    return (f"SELECT source_file, partition_day, {_HOST} AS host, count(*) AS n, "
            "min(TRY_CAST(raw_value AS TIMESTAMP)) AS first_ts, max(TRY_CAST(raw_value AS TIMESTAMP)) AS last_ts "
            f"FROM {rows} AS q WHERE q.input = $input GROUP BY ALL")


def _move_summary_rows(conn: duckdb.DuckDBPyConnection, name: str, rows: str, sign: str,
                       params: dict[str, Any]) -> None:
    # The staging summary counts the rows that pass per day, file and host: duplicates leave it (-)
    # or come back to it (+) with the quarantine rows. A (day, file, host) left with none has no row,
    # as when staging found none; it comes back spanning its duplicates' times (their raw_value).
    grouped = _duplicate_groups(rows)
    statements = [
        f"UPDATE staging.{name} AS s SET rows_staged = s.rows_staged {sign} d.n FROM ({grouped}) AS d "
        "WHERE s.source_file = d.source_file AND s.partition_day = d.partition_day AND s.host = d.host",
    ]
    if sign == "+":
        statements.append(
            f"INSERT INTO staging.{name} BY NAME SELECT partition_day, source_file, host, n AS rows_staged, "
            f"first_ts, last_ts FROM ({grouped}) AS d WHERE NOT EXISTS (SELECT 1 FROM staging.{name} AS s "
            "WHERE s.source_file = d.source_file AND s.partition_day = d.partition_day AND s.host = d.host)")
        # The UPDATE above ran first, so a row inserted here is not counted twice.
    else:
        statements.append(f"DELETE FROM staging.{name} WHERE rows_staged <= 0")
    for text in statements:
        conn.execute(text, sql.params_in(text, {**params, "input": name}))


def _probe(conn: duckdb.DuckDBPyConnection, files: list[SourceFile],
           identities: dict[Path, tuple[str, int, int]]) -> list[FileProblem]:
    """The files that fail when every value is read; each becomes a whole-file quarantine."""
    broken = []
    for f in files:
        rel = read_file(conn, f.path, f.fmt, f.header or None)
        # hash() needs every value decoded; count() alone can come from Parquet statistics.
        values = ", ".join(f"bit_xor(hash({duckdb.ColumnExpression(c)}))" for c in rel.columns)
        try:
            rel.aggregate(f"count(*), {values}").fetchall()
        except duckdb.Error as exc:
            reason = f"whole file quarantined: cannot be read as {f.fmt.upper()}: {_quote(str(exc).splitlines()[0])}"
            broken.append(FileProblem(f.path, f.fmt, reason, identities.pop(f.path)[1]))
            progress.warning("%s: %s", f.path, reason)
    return broken


def _mark_cascades(conn: duckdb.DuckDBPyConnection, input_name: str) -> None:
    """Re-label rows lost only because their parent row is quarantined, and print each cascade."""
    for column, parent, key in CASCADES.get(input_name, ()):
        params = {"column": column, "parent": parent, "path": f"$.{key}"}
        conn.execute(
            "UPDATE _stg SET qa_reason = 'cascade: ' || $column || ' ' || qa_raw || ' is quarantined in ' || $parent "
            "WHERE qa_column = $column AND qa_reason LIKE 'unknown %' AND qa_raw IN ("
            "  SELECT trim(json_extract_string(raw_row, $path)) FROM audit.quarantine "
            "  WHERE input = $parent AND raw_row IS NOT NULL)",
            params,
        )
        for value, rows in conn.execute(
            "SELECT qa_raw, count(*) FROM _stg WHERE qa_column = $column AND qa_reason LIKE 'cascade: %' "
            "GROUP BY 1 ORDER BY 1", {"column": column},
        ).fetchall():
            progress.warning("cascade: %s %r is quarantined in %s and took %d %s row(s) with it",
                             column, value, parent, rows, input_name)


def _ensure_table(conn: duckdb.DuckDBPyConnection, table: str, select: str) -> None:
    """Create the staging table from the SELECT's shape; recreate it if the shape changed."""
    wanted = conn.execute(f"SELECT * FROM ({select}) LIMIT 0").description
    wanted_cols = [(d[0], str(d[1])) for d in wanted]
    schema, name = table.split(".")
    have = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if have and [c for c, _ in have] == [c for c, _ in wanted_cols]:
        return
    if have:
        log.warning("%s changed shape; recreating it (earlier partitions must be re-run)", table)
    conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM ({select}) LIMIT 0")


def data_dirs_for(data_dir: Path, imported_dir: Path | None) -> list[Path]:
    dirs = [Path(data_dir)]
    if imported_dir is not None and Path(imported_dir).is_dir():
        dirs.append(Path(imported_dir))
    return dirs
