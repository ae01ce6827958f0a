"""The run manifest: inputs with hashes, settings, factor tables and output checksums, as JSON.

Nothing in it depends on when or where-in-time the run happened (no run id, no clock), so two runs
on identical inputs, code and settings write identical manifests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from . import __version__, sql
from .contract import plain
from .settings import Settings

sql.register("audit/manifest_inputs", "audit/manifest_imports", "audit/manifest_factor_sets")


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cursor.description]
    return [{c: plain(v) for c, v in zip(cols, row)} for row in cursor.fetchall()]


def output_checksums(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """sha256 of every intermediate and mart table's rows, each row rendered as text, in sorted order."""
    tables = [t for (t,) in conn.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('intermediate', 'marts') ORDER BY 1").fetchall()]
    out = {}
    for table in tables:  # names come from the catalogue, not from users
        rows, digest = conn.execute(
            f"SELECT count(*), sha256(coalesce(string_agg(CAST(t AS VARCHAR), chr(10) "
            f"ORDER BY CAST(t AS VARCHAR)), '')) FROM {table} AS t").fetchall()[0]
        out[table] = {"rows": int(rows), "sha256": digest}
    return out


def build_manifest(conn: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    return {
        "package_version": __version__,
        "settings": json.loads(settings.to_json()),
        "settings_hash": settings.digest(),
        "inputs": _rows(sql.execute(conn, "audit/manifest_inputs")),
        "imports": _rows(sql.execute(conn, "audit/manifest_imports")),
        "factor_sets": _rows(sql.execute(conn, "audit/manifest_factor_sets")),
        "outputs": output_checksums(conn),
    }


def write_manifest(conn: duckdb.DuckDBPyConnection, settings: Settings, path: Path) -> dict[str, Any]:
    manifest = build_manifest(conn, settings)
    Path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def manifest_path(db: Path) -> Path:
    return Path(db).with_suffix(".manifest.json")
