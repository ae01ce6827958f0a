"""docs/tables.md as data: the one source of table and column descriptions.

The markdown has a `### schema.table` heading per table, a `- **Grain:** ...` bullet under it, and a
column table whose rows are `| `column` | TYPE | unit | meaning |`. The descriptions reach the
Dagster UI (`TableColumn.description`) and DuckDB (`COMMENT ON`, shown by `duckdb_columns().comment`)
from here, so they are written once; test_docs_tables.py keeps the markdown in step with the tables.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
# A checkout reads the repo's docs/; a wheel carries a copy as _docs/ (see pyproject.toml).
DOC = next(
    (p for p in (_PACKAGE_DIR.parent / "docs" / "tables.md", _PACKAGE_DIR / "_docs" / "tables.md") if p.is_file()),
    _PACKAGE_DIR.parent / "docs" / "tables.md",
)

_HEADING = re.compile(r"^###\s+`?([a-z_]+\.[a-z0-9_]+)`?\s*$")
_GRAIN = re.compile(r"^-\s+\*\*Grain:\*\*\s*(.+)$")
_COLUMN_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


@dataclass(frozen=True)
class TableDoc:
    grain: str = ""
    # column -> description: the meaning, with the unit when it has one
    columns: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> dict[str, TableDoc]:
    """schema.table -> its grain and column descriptions, from the markdown of docs/tables.md."""
    grains: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            m = _HEADING.match(line)
            current = m.group(1) if m else None
            if current is not None:
                columns.setdefault(current, {})
            continue
        if current is None:
            continue
        if m := _GRAIN.match(line):
            grains[current] = m.group(1).strip()
        elif _COLUMN_ROW.match(line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 4:
                continue  # test_docs_tables names the malformed row
            name, _dtype, unit, meaning = cells
            unit = "" if unit in ("", "-") else unit
            columns[current][name.strip("`")] = f"[{unit}] {meaning}" if unit else meaning
    return {t: TableDoc(grains.get(t, ""), cols) for t, cols in columns.items()}


@functools.cache
def tables() -> dict[str, TableDoc]:
    """The parsed docs/tables.md (empty when the file is absent, e.g. an install without docs)."""
    return parse(DOC.read_text(encoding="utf-8")) if DOC.is_file() else {}


def table(name: str) -> TableDoc:
    return tables().get(name, TableDoc())
