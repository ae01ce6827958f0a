"""Reads input files into DuckDB: discovery, header checks, file hashes and the staging/quarantine split.

The typing and row checks are SQL (sql/staging/stg_<input>.sql); this module only builds the
`src` view those statements read and moves their result into staging, quarantine and audit tables
inside one transaction, so re-running a partition replaces it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from . import sql
from .contract import sha256_file  # noqa: F401  (re-exported: explain and tests import it from here)
from .inputs import INPUTS, InputSpec

log = logging.getLogger("lca.ingest")

QA_COLUMNS = ("qa_column", "qa_reason", "qa_raw", "raw_row", "partition_day")
sql.register(
    "audit/insert_quarantine",
    "audit/delete_quarantine",
    "audit/delete_ingest_counts",
    "audit/insert_ingest_counts",
    "audit/delete_source_file",
    "audit/insert_source_file",
    "audit/cached_source_file",
)


class InputError(ValueError):
    """A problem with an input file that the user must fix; the message names file and fix."""


@dataclass
class SourceFile:
    path: Path
    fmt: str  # "csv" or "parquet"
    columns: dict[str, str] = field(default_factory=dict)  # contract name -> name in the file


@dataclass
class StageResult:
    input: str
    files: int
    rows_staged: int
    rows_quarantined: int
    reasons: dict[str, int]
    content_hash: str = ""


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


def inspect_file(conn: duckdb.DuckDBPyConnection, path: Path, spec: InputSpec) -> SourceFile:
    """Map the file's columns onto the contract; a missing required column is an InputError."""
    fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty; expected a header with columns {list(spec.required)}")
    try:
        if fmt == "csv":
            rel = conn.read_csv(str(path), all_varchar=True, header=True)
        else:
            rel = conn.read_parquet(str(path))
        names = rel.columns
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read as {fmt.upper()}: {str(exc).splitlines()[0]}") from exc
    by_norm = {}
    for col in names:
        by_norm.setdefault(_normalise(col), col)
    missing = [c for c in spec.required if c not in by_norm]
    if missing:
        raise InputError(
            f"{path}: missing required column {missing[0]!r} for input '{spec.name}' "
            f"(required: {', '.join(spec.required)}; found: {', '.join(names)}). "
            f"Fix: add or rename the column, see docs/data-contract.md#{spec.name}"
        )
    return SourceFile(path, fmt, {c: by_norm[c] for c in spec.columns if c in by_norm})


def _relation(conn: duckdb.DuckDBPyConnection, f: SourceFile, spec: InputSpec, as_text: bool):
    if f.fmt == "csv":
        rel = conn.read_csv(str(f.path), all_varchar=True, header=True)
        row = duckdb.SQLExpression("row_number() OVER ()")
    else:
        rel = conn.read_parquet(str(f.path), file_row_number=True)
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


def build_source_view(conn: duckdb.DuckDBPyConnection, files: list[SourceFile], spec: InputSpec) -> None:
    """Create the temp view `src`: every file's rows in contract columns plus source_file/source_row."""
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
    view.create_view("src", replace=True)


def _file_identity(conn: duckdb.DuckDBPyConnection, input_name: str, f: SourceFile) -> tuple[str, int, int]:
    """sha256 and row count, reused from audit.source_files while size and mtime are unchanged."""
    st = f.path.stat()
    mtime = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).replace(tzinfo=None)
    cached = sql.execute(
        conn,
        "audit/cached_source_file",
        {"input": input_name, "path": str(f.path), "bytes": st.st_size, "mtime": mtime},
    ).fetchall()
    if cached:
        return cached[0][0], cached[0][1], st.st_size
    if f.fmt == "parquet":
        rows = conn.read_parquet(str(f.path)).aggregate("count(*)").fetchall()[0][0]
    else:
        rows = conn.read_csv(str(f.path), all_varchar=True, header=True).aggregate("count(*)").fetchall()[0][0]
    return sha256_file(f.path), int(rows), st.st_size


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
    files = [inspect_file(conn, p, spec) for p in paths]
    identities = {f.path: _file_identity(conn, input_name, f) for f in files}
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
    conn.execute("BEGIN TRANSACTION")
    try:
        # Each staging statement ends in its typed columns plus `qa` (the first failed check as a
        # struct) and `raw` (the row as read); the quarantine columns are unpacked here, once.
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _stg AS SELECT * EXCLUDE (qa, raw), qa.col AS qa_column, "
            "qa.reason AS qa_reason, qa.raw AS qa_raw, CASE WHEN qa IS NOT NULL THEN to_json(raw) END AS raw_row "
            f"FROM ({sql.wrapped(f'staging/stg_{input_name}')})",
            sql.params_for(f"staging/stg_{input_name}", bound),
        )
        _ensure_table(conn, table)
        if spec.partitioned:
            conn.execute(
                f'DELETE FROM {table} WHERE "{spec.partition_column}" >= $s AND "{spec.partition_column}" < $e',
                {"s": window_start, "e": window_end},
            )
        else:
            conn.execute(f"DELETE FROM {table}")
        # Small inputs keep file order, so everything computed from them adds up in one order
        # (byte-identical reruns); telemetry is summed downstream in integers, order-free.
        order = "" if spec.partitioned else " ORDER BY source_file, source_row"
        conn.execute(
            f"INSERT INTO {table} BY NAME SELECT * EXCLUDE ({', '.join(QA_COLUMNS)}) "
            f"FROM _stg WHERE qa_reason IS NULL{order}"
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
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    staged, quarantined = conn.execute(
        "SELECT count(*) FILTER (qa_reason IS NULL), count(*) FILTER (qa_reason IS NOT NULL) FROM _stg"
    ).fetchall()[0]
    reasons = dict(
        conn.execute(
            "SELECT qa_reason, count(*) FROM _stg WHERE qa_reason IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    conn.execute("DROP TABLE IF EXISTS _stg")
    conn.execute("DROP VIEW IF EXISTS src")  # the view names files of this run only: never left behind
    content = hashlib.sha256("".join(f"{f.path}\0{identities[f.path][0]}\n" for f in files).encode())
    return StageResult(input_name, len(files), int(staged), int(quarantined), reasons, content.hexdigest()[:16])


def _ensure_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create the staging table from `_stg`'s shape; recreate it if the shape changed."""
    wanted = conn.execute(
        f"SELECT * EXCLUDE ({', '.join(QA_COLUMNS)}) FROM _stg LIMIT 0"
    ).description
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
    conn.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT * EXCLUDE ({', '.join(QA_COLUMNS)}) FROM _stg LIMIT 0"
    )


def data_dirs_for(data_dir: Path, imported_dir: Path | None) -> list[Path]:
    dirs = [Path(data_dir)]
    if imported_dir is not None and Path(imported_dir).is_dir():
        dirs.append(Path(imported_dir))
    return dirs
