"""Loads the SQL statements in `sql/` by name and hashes them for code versions.

Every statement lives in its own file, `sql/<layer>/<name>.sql`, and is referred to as
`"<layer>/<name>"`. Values are always bound as named parameters (`$name`); the loader passes
only the parameters a statement actually uses, so callers can hand over a shared dict.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

_PACKAGE_DIR = Path(__file__).resolve().parent
# An editable install or a checkout reads the repo's sql/; a wheel carries a copy as _sql/.
SQL_DIR = next(
    (p for p in (_PACKAGE_DIR.parent / "sql", _PACKAGE_DIR / "_sql") if p.is_dir()),
    _PACKAGE_DIR.parent / "sql",
)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_USED: set[str] = set()


@functools.cache
def load(name: str) -> str:
    """Return the text of `sql/<name>.sql`; raises FileNotFoundError naming the path."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: {path}")
    return path.read_text(encoding="utf-8")


def register(*names: str) -> tuple[str, ...]:
    """Declare that code uses these statements; the orphan test compares this set with sql/."""
    _USED.update(names)
    return names


def registered() -> set[str]:
    return set(_USED)


def available() -> set[str]:
    return {str(p.relative_to(SQL_DIR).with_suffix("")) for p in SQL_DIR.rglob("*.sql")}


def code_version(names: Iterable[str]) -> str:
    """Hash of the statements' text: changes whenever the SQL an asset runs changes."""
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        digest.update(name.encode())
        digest.update(load(name).encode())
    return digest.hexdigest()[:16]


def params_for(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    wanted = set(_PARAM.findall(load(name)))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")
    return {k: params[k] for k in wanted}


def params_in(text: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a composed statement text uses, as params_for does for a file."""
    wanted = set(_PARAM.findall(text))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"statement needs parameters {sorted(missing)}")
    return {k: params[k] for k in wanted}


def with_ctes(name: str, ctes: str) -> str:
    """The statement with more CTEs put in front of its own (it must start with WITH)."""
    text = wrapped(name)
    head = re.search(r"^WITH\s", text, flags=re.MULTILINE)
    if head is None:
        raise ValueError(f"sql/{name}.sql must start with WITH to take CTEs")
    return f"{text[:head.start()]}WITH {ctes},\n{text[head.end():]}"


def execute(
    conn: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run one statement file with its named parameters bound."""
    return conn.execute(load(name), params_for(name, params or {}))


# Temporary macros (sql/macros), created in order (a macro may call an earlier one) by create_macros
# on a connection before a statement that calls them runs there.
MACROS = register("macros/counter_plausible", "macros/interval_method", "macros/interval_kwh")


def create_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the shared macros (the counter rule) on this connection."""
    for name in MACROS:
        execute(conn, name)


def wrapped(name: str) -> str:
    """The statement's text, safe to embed as a subquery (no trailing semicolon)."""
    return load(name).strip().rstrip(";")


# Schema-qualified table names; comments and string literals are removed first, so a table named in
# a comment or a label is not a dependency. `audit` tables are written by the pipeline, never assets.
_TABLE = re.compile(r"(?<![\w.\"])(staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")
_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'")


def tables_read(name: str) -> tuple[str, ...]:
    """The `schema.table` names a statement reads, sorted: the asset dependencies of a SQL model."""
    text = _COMMENT_OR_STRING.sub(" ", load(name))
    return tuple(sorted({f"{s}.{t}" for s, t in _TABLE.findall(text)}))
