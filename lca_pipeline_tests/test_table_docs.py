"""Column descriptions come from docs/tables.md and reach both DuckDB (COMMENT ON) and the Dagster UI.

The pipeline runs once on a tiny generated sample; a spy on the job keeps the run's materialisation
events, whose `dagster/column_schema` the UI shows.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lca_pipeline import table_docs
from lca_pipeline.materialize import comment_table
from lca_pipeline.runner import run_pipeline
from lca_pipeline.sample import generate_sample

# Every test here runs the pipeline: not in the everyday `pytest -m "not slow"` subset.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dg.TableSchema]]:
    root = tmp_path_factory.mktemp("table_docs")
    data, db = root / "sample", root / "warehouse" / "lca.duckdb"
    generate_sample(data, days=1, interval_s=300)
    results: list[dg.ExecuteInProcessResult] = []
    execute = dg.JobDefinition.execute_in_process

    def spy(self, *args, **kwargs):
        results.append(execute(self, *args, **kwargs))
        return results[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dg.JobDefinition, "execute_in_process", spy)
        run_pipeline(data, db, report=False)
    schemas = {
        ".".join(e.asset_key.path): e.materialization.metadata["dagster/column_schema"].schema
        for r in results for e in r.get_asset_materialization_events()
        if "dagster/column_schema" in e.materialization.metadata
    }
    return db, schemas


def test_parse_reads_grain_units_and_meanings():
    text = (
        "## marts\n\n### marts.t\n\n- **Grain:** One row per day.\n- **Key:** (`day`).\n\n"
        "| column | type | unit | meaning |\n|---|---|---|---|\n"
        "| `day` | DATE | UTC date | The day. |\n| `site` | VARCHAR | - | Site's name. |\n\n"
        "### Report file (asset `marts.report`)\n\n| `not_a_column` | x | y | z |\n"
    )
    assert table_docs.parse(text) == {
        "marts.t": table_docs.TableDoc("One row per day.", {"day": "[UTC date] The day.", "site": "Site's name."})
    }


def test_every_marts_column_is_described_in_duckdb(run):
    db, _ = run
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts'"
        ).fetchall()
        tables = conn.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()
    assert len(rows) > 100 and len(tables) >= 10  # the run built the marts
    undescribed = [f"{t}.{c}" for t, c, comment in rows if not (comment or "").strip()]
    assert not undescribed, f"marts columns without a DuckDB comment: {undescribed}"
    assert not [t for t, comment in tables if not (comment or "").strip()]
    # The comment is the docs/tables.md text, quotes and all.
    doc = table_docs.table("marts.stage_impacts")
    assert dict((c, m) for t, c, m in rows if t == "stage_impacts") == doc.columns
    assert dict(tables)["stage_impacts"] == doc.grain


def test_every_marts_column_is_described_in_the_dagster_column_schema(run):
    _, schemas = run
    marts = {t: s for t, s in schemas.items() if t.startswith("marts.")}
    assert len(marts) >= 10
    undescribed = [f"{t}.{c.name}" for t, s in marts.items() for c in s.columns if not (c.description or "").strip()]
    assert not undescribed, f"marts columns without a description in the Dagster column schema: {undescribed}"
    assert {c.name: c.description for c in marts["marts.fleet_daily"].columns} == \
        table_docs.table("marts.fleet_daily").columns


def test_comment_text_is_escaped_not_executed(monkeypatch):
    evil = "it's \\ a -- comment'; DROP TABLE marts.t; --"
    monkeypatch.setattr(table_docs, "table", lambda name: table_docs.TableDoc(evil, {"a b": evil}))
    with duckdb.connect() as conn:
        conn.execute('CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS "a b"')
        comment_table(conn, "marts.t", ["a b"])
        assert conn.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 't'").fetchall() == [(evil,)]
        assert conn.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 't'").fetchall() == [(evil,)]


def test_comments_inside_an_open_transaction_stay_in_it(monkeypatch):
    monkeypatch.setattr(table_docs, "table", lambda name: table_docs.TableDoc("grain", {"a": "[kWh] energy"}))
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS a")
        conn.execute("BEGIN TRANSACTION")
        comment_table(conn, "marts.t", ["a"])
        conn.execute("ROLLBACK")  # the caller's rollback undoes the comments too
        assert conn.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 't'").fetchall() == [(None,)]
        comment_table(conn, "marts.t", ["a"])
        assert conn.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 't'").fetchall() == \
            [("[kWh] energy",)]
