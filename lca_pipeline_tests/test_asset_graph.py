"""The asset graph: dependencies come from the SQL, and keys, groups, owners, deps and checks match a snapshot.

The snapshot (lca_pipeline_tests/snapshots/asset_graph.json) makes every change to the graph visible in
review: a renamed asset, a new dependency, an asset moved to another group. After an intended change,
regenerate it with one command and commit the diff:

    UPDATE_SNAPSHOTS=1 pytest lca_pipeline_tests/test_asset_graph.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from lca_pipeline import sql
from lca_pipeline.assets import embodied, lifecycle, operational
from lca_pipeline.assets.models import Model, sql_deps
from lca_pipeline.definitions import build_definitions
from lca_pipeline.inputs import INPUTS

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "asset_graph.json"
MODELS: list[Model] = [*operational.MODELS, *embodied.MODELS, *lifecycle.MODELS]


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("graph")
    return build_definitions(str(root / "data"), str(root / "warehouse" / "lca.duckdb")).resolve_asset_graph()


def _user(key: dg.AssetKey) -> str:
    return ".".join(key.path)


def test_tables_read_ignores_comments_and_strings(tmp_path, monkeypatch):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "q.sql").write_text(
        "-- built from marts.not_a_dep\n"
        "SELECT 'staging.label' AS s, h.site FROM staging.jobs AS j\n"
        "JOIN intermediate.gpu_hourly h ON h.host = j.host  -- and staging.comment\n"
        "WHERE j.x IN (SELECT x FROM staging.jobs)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sql, "SQL_DIR", tmp_path)
    sql.load.cache_clear()
    try:
        assert sql.tables_read("t/q") == ("intermediate.gpu_hourly", "staging.jobs")
    finally:
        sql.load.cache_clear()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.table)
def test_declared_deps_equal_the_tables_the_sql_reads(model: Model):
    read = sql_deps(model)
    assert sorted(model.deps) == list(read), (
        f"{model.table}: Model.deps {sorted(model.deps)} but sql/{model.sql_name}.sql reads {list(read)}; "
        "make the declared deps list exactly the tables the SQL reads"
    )


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_staging_deps_equal_the_staging_tables_the_sql_reads(name: str):
    read = [t.split(".")[1] for t in sql.tables_read(f"staging/stg_{name}") if t != f"staging.{name}"]
    assert sorted(INPUTS[name].deps) == read, (
        f"staging.{name}: InputSpec.deps {sorted(INPUTS[name].deps)} but sql/staging/stg_{name}.sql reads {read}"
    )


def test_model_assets_depend_on_exactly_what_their_sql_reads(graph):
    for model in MODELS:
        parents = {_user(k) for k in graph.get(dg.AssetKey(model.table.split("."))).parent_keys}
        assert parents == set(sql_deps(model)), model.table


def _snapshot(graph) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for key in sorted(graph.get_all_asset_keys(), key=_user):
        node = graph.get(key)
        out[_user(key)] = {
            "group": node.group_name,
            "owners": sorted(node.owners),
            "deps": sorted(_user(k) for k in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
            # which tables a run for one day rebuilds only in part
            "partitions": getattr(node.partitions_def, "name", None),
        }
    return out


def test_asset_graph_matches_snapshot(graph):
    current = _snapshot(graph)
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.is_file(), f"{SNAPSHOT} missing; create it with UPDATE_SNAPSHOTS=1 pytest {__file__}"
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    added, removed = sorted(current.keys() - stored.keys()), sorted(stored.keys() - current.keys())
    changed = sorted(k for k in current.keys() & stored.keys() if current[k] != stored[k])
    assert current == stored, (
        f"asset graph differs from {SNAPSHOT.name}: added {added}, removed {removed}, changed {changed}. "
        "If intended, regenerate: UPDATE_SNAPSHOTS=1 pytest lca_pipeline_tests/test_asset_graph.py"
    )


def test_every_asset_has_an_owner_and_a_known_group(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, f"{_user(key)} has no owners"
        assert node.group_name in {"raw", "staging", "intermediate", "marts", "audit"}, _user(key)


def test_dg_check_defs_passes():
    """`dg check defs` ([tool.dg] in pyproject.toml) loads the same definitions as `dagster dev`."""
    import shutil
    import subprocess
    import sys

    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")
    assert dg_cli, "dg not installed: pip install -e . (dagster-dg-cli is a dependency)"
    out = subprocess.run([dg_cli, "check", "defs"], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All definitions loaded successfully" in out.stdout + out.stderr
