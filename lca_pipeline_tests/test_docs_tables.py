"""docs/tables.md documents every warehouse table and column, with its DuckDB type, and nothing else.

The pipeline runs once on a tiny generated sample (1 day, 5-minute samples); the test then compares the
catalogue (information_schema.columns of staging, intermediate, marts and audit) with the markdown:
a `### schema.table` heading per table and, under it, a column table whose rows are
`| `column` | TYPE | unit | meaning |`. Every `schema.table` or `schema.table.column` named anywhere in
the doc must exist, and every ```sql block (the example queries) must run against the warehouse.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from lca_pipeline.runner import run_pipeline
from lca_pipeline.sample import generate_sample

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

# The module, not the `report` asset that lca_pipeline.assets re-exports under the same name.

DOC = Path(__file__).resolve().parents[1] / "docs" / "tables.md"
SCHEMAS = ("staging", "intermediate", "marts", "audit")
# Named in the doc but not tables: the asset that writes report.html.
NOT_TABLES = {"marts.report"}

HEADING = re.compile(r"^###\s+`?([a-z_]+\.[a-z0-9_]+)`?\s*$")
COLUMN_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")
MENTION = re.compile(
    r"(?<![\w/.-])(" + "|".join(SCHEMAS) + r")\.([a-z_][a-z0-9_]*)(\*)?(?:\.([a-z_][a-z0-9_]*))?"
)
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs_tables")
    data, db = root / "sample", root / "warehouse" / "lca.duckdb"
    generate_sample(data, days=1, interval_s=300)
    run_pipeline(data, db, report=False)  # the HTML report is a file, not a table
    return db


@pytest.fixture(scope="module")
def catalogue(warehouse: Path) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, DuckDB type)] in ordinal order."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema IN ({', '.join(repr(s) for s in SCHEMAS)}) "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def parse_doc(text: str) -> dict[str, list[list[str]]]:
    """schema.table -> the cells of each column row under its heading."""
    tables: dict[str, list[list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            m = HEADING.match(line)
            current = m.group(1) if m else None
            if current is not None:
                assert current not in tables, f"docs/tables.md: table {current} documented twice"
                tables[current] = []
            continue
        if current is not None and COLUMN_ROW.match(line):
            tables[current].append([c.strip() for c in line.strip().strip("|").split("|")])
    return tables


def test_every_table_is_documented_and_no_other(catalogue, doc_text):
    documented = set(parse_doc(doc_text))
    assert len(catalogue) > 40  # the run really built the warehouse
    missing = sorted(set(catalogue) - documented)
    unknown = sorted(documented - set(catalogue))
    assert not missing, f"tables with no `### schema.table` section in docs/tables.md: {missing}"
    assert not unknown, f"docs/tables.md documents tables that do not exist: {unknown}"


def test_every_column_is_documented_with_its_type(catalogue, doc_text):
    documented = parse_doc(doc_text)
    problems = []
    for table, columns in catalogue.items():
        rows = documented.get(table, [])
        names = [r[0].strip("`") for r in rows]
        actual = [c for c, _ in columns]
        if missing := [c for c in actual if c not in names]:
            problems.append(f"{table}: undocumented columns {missing}")
        if unknown := [c for c in names if c not in actual]:
            problems.append(f"{table}: documented columns that do not exist {unknown}")
        if len(names) != len(set(names)):
            problems.append(f"{table}: a column is documented twice")
        if not problems and names != actual:
            problems.append(f"{table}: columns not in table order; expected {actual}")
        types = dict(columns)
        for row in rows:
            name = row[0].strip("`")
            if len(row) != 4 or not all(row):
                problems.append(f"{table}.{name}: row needs 4 non-empty cells (column, type, unit, meaning)")
            elif name in types and row[1] != types[name]:
                problems.append(f"{table}.{name}: type {row[1]!r} in the doc, {types[name]!r} in DuckDB")
    assert not problems, "docs/tables.md is out of step with the warehouse:\n" + "\n".join(problems)


def test_doc_names_only_existing_tables_and_columns(catalogue, doc_text):
    bad = set()
    for m in MENTION.finditer(doc_text):
        schema, name, star, column = m.groups()
        table = f"{schema}.{name}"
        if star:
            if not any(t.startswith(table) for t in catalogue):
                bad.add(f"{table}*")
        elif table in NOT_TABLES:
            continue
        elif table not in catalogue:
            bad.add(table)
        elif column and column not in dict(catalogue[table]):
            bad.add(f"{table}.{column}")
    assert not bad, f"docs/tables.md names tables or columns that do not exist: {sorted(bad)}"


def test_example_queries_run(warehouse, doc_text):
    blocks = SQL_BLOCK.findall(doc_text)
    assert len(blocks) >= 3, "docs/tables.md should carry at least three example queries"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for block in blocks:
            for statement in (s for s in block.split(";") if s.strip()):
                try:
                    conn.execute(statement).fetchall()
                except duckdb.Error as exc:
                    pytest.fail(f"example query failed: {exc}\n{statement}")
