"""The refresh as an operated service: one run path, atomic publish, run records, automation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lca_pipeline import runlog
from lca_pipeline.cli import main
from lca_pipeline.definitions import build_definitions
from lca_pipeline.partitions import register_days
from lca_pipeline.publish import published_versions
from lca_pipeline.runner import run_pipeline
from lca_pipeline.settings import SettingsError
from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import query, scalar

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
MART_TOTALS = ("SELECT count(*), sum(energy_it_kwh), sum(operational_co2e_location_kg), sum(operational_co2e_market_kg) "
               "FROM marts.stage_impacts")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("ops") / "sample"
    generate_sample(data, days=2, interval_s=300)
    return data


def _copy(sample: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    return data


def _marts_checksums(db: Path) -> dict:
    return json.loads(db.with_suffix(".manifest.json").read_text())["outputs"]


def test_reader_is_never_blocked_and_keeps_its_snapshot(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    run_pipeline(data, db, report=False)
    reader = duckdb.connect(str(db), read_only=True)
    before = reader.execute(MART_TOTALS).fetchone()
    assert reader.execute("SELECT count(*) FROM audit.publications").fetchone()[0] == 1
    # Late data for the first day changes the totals; the refresh must not wait for the reader.
    sites = data / "sites.csv"
    sites.write_text(sites.read_text().replace("1.1", "1.3"))
    outcome = run_pipeline(data, db, report=False)
    assert outcome.version
    assert reader.execute(MART_TOTALS).fetchone() == before  # the open connection keeps its version
    assert reader.execute("SELECT count(*) FROM audit.publications").fetchone()[0] == 1
    reader.close()
    after = query(db, MART_TOTALS)[0]
    assert scalar(db, "SELECT count(*) FROM audit.publications") == 2
    assert after != before  # a new connection sees the new version


def test_failed_blocking_check_leaves_published_version_and_says_so(sample, tmp_path, capsys):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    run_pipeline(data, db, report=False)
    published = _marts_checksums(db)
    inode = db.stat().st_ino
    # A site moved to a zone without grid data: grid_complete (blocking) fails.
    sites = data / "sites.csv"
    text = sites.read_text()
    zone = text.splitlines()[1].split(",")[1]
    sites.write_text(text.replace(zone, "XX-NOWHERE"))
    assert main(["run", "--data", str(data), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "grid_complete" in err and "published data unchanged" in err
    assert db.stat().st_ino == inode and _marts_checksums(db) == published
    last = runlog.runs(db)[-1]
    assert last["status"] == "failure" and "grid_complete" in last["failure"]
    assert main(["status", "--db", str(db)]) == 3
    out = capsys.readouterr().out
    assert "failure" in out and "grid_complete" in out


def test_stale_wal_is_moved_aside_not_replayed(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    run_pipeline(data, db, report=False)
    Path(f"{db}.wal").write_bytes(b"\x00garbage left by a crashed writer" * 100)
    run_pipeline(data, db, report=False)
    assert not Path(f"{db}.wal").exists()
    assert list((db.parent / "versions").glob("stale-*.wal"))
    assert scalar(db, "SELECT count(*) FROM marts.stage_impacts") > 0


def test_versions_are_kept_up_to_the_setting(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    (data / "lca.toml").write_text((data / "lca.toml").read_text() + "\n[publish]\nkeep_versions = 2\n")
    defs = build_definitions(str(data), str(db))
    instance = dg.DagsterInstance.ephemeral()
    register_days(instance, {__import__("datetime").date(2024, 3, 4)})
    job = defs.resolve_job_def("lca_tables")
    for _ in range(3):
        assert job.execute_in_process(instance=instance, partition_key="2024-03-04").success
    kept = published_versions(db)
    assert len(kept) == 2
    assert os.path.samefile(kept[-1], db)  # the published path is the newest version
    assert scalar(db, "SELECT count(*) FROM audit.publications") == 3


def test_killed_run_is_recorded_as_abandoned(sample, tmp_path, capsys):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    run_pipeline(data, db, report=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    runlog.append(db, "started", "killed-run", pid=dead.pid, host=__import__("socket").gethostname())
    assert main(["status", "--db", str(db)]) == 3
    assert "abandoned" in capsys.readouterr().out
    run_pipeline(data, db, report=False)  # the next refresh records it and is not blocked by it
    statuses = {r["run_id"]: r["status"] for r in runlog.runs(db)}
    assert statuses["killed-run"] == "abandoned"
    assert query(db, "SELECT status FROM audit.runs WHERE run_id = 'killed-run'") == [("abandoned",)]


def test_empty_data_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["run", "--data", str(tmp_path / "empty"), "--db", str(tmp_path / "x.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "has no input files" in err and str(tmp_path / "empty") in err
    assert not (tmp_path / "x.duckdb").exists()


def test_history_before_2020_is_partitioned_by_its_own_days(tmp_path):
    data, db = tmp_path / "old", tmp_path / "w" / "lca.duckdb"
    generate_sample(data, days=1, interval_s=120, start="2019-06-03")
    instance = dg.DagsterInstance.ephemeral()
    outcome = run_pipeline(data, db, report=False, instance=instance)
    assert outcome.partition_range == ("2019-06-03", "2019-06-03")
    assert instance.get_dynamic_partitions("days") == ["2019-06-03"]
    assert scalar(db, "SELECT min(CAST(hour_start AS DATE)) FROM intermediate.telemetry_energy_hourly").year == 2019


def test_settings_are_parsed_once_per_run(sample, tmp_path, monkeypatch):
    import lca_pipeline.resources as resources

    calls = []
    real = resources.load_settings

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(resources, "load_settings", counting)
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    defs = build_definitions(str(data), str(db))
    instance = dg.DagsterInstance.ephemeral()
    register_days(instance, {__import__("datetime").date(2024, 3, 4)})
    assert defs.resolve_job_def("lca_refresh").execute_in_process(instance=instance, partition_key="2024-03-04").success
    assert len(calls) == 1


def test_lca_run_records_into_the_instance_the_ui_reads(sample, tmp_path, dagster_home):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    outcome = run_pipeline(data, db, report=False)
    instance = dg.DagsterInstance.get()
    assert Path(instance.root_directory) == dagster_home
    assert instance.get_run_by_id(outcome.run_id).is_success
    assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "stage_impacts"])) is not None
    assert instance.get_latest_materialization_event(dg.AssetKey(["audit", "publications"])) is not None


def test_dagster_job_execute_and_lca_run_give_the_same_warehouse(sample, tmp_path):
    data = _copy(sample, tmp_path)
    db_cli, db_dg = tmp_path / "cli" / "lca.duckdb", tmp_path / "dg" / "lca.duckdb"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "LCA_DB": str(db_dg),
           # A relative data path: audit rows must not depend on how the launcher spelled it.
           "LCA_DATA_DIR": os.path.relpath(data, REPO)}
    run_pipeline(data, db_cli, report=False)
    instance = dg.DagsterInstance.from_config(str(home))
    register_days(instance, {__import__("datetime").date(2024, 3, 4), __import__("datetime").date(2024, 3, 5)})
    tags = json.dumps({"dagster/asset_partition_range_start": "2024-03-04",
                       "dagster/asset_partition_range_end": "2024-03-05"})
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "job", "execute", "-m", "lca_pipeline.definitions", "-j", "lca_tables",
         "--tags", tags],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert _marts_checksums(db_cli) == _marts_checksums(db_dg)
    for db in (db_cli, db_dg):
        assert query(db, "SELECT status FROM audit.runs") == [("success",)]
        assert scalar(db, "SELECT count(*) - count(DISTINCT path) FROM audit.source_files") == 0
        assert query(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'src'") == [(0,)]
    paths = {p for (p,) in query(db_dg, "SELECT path FROM audit.source_files")}
    assert paths == {p for (p,) in query(db_cli, "SELECT path FROM audit.source_files")}
    assert all(Path(p).is_absolute() for p in paths)


def test_sensor_requests_only_the_day_of_a_late_file(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    defs = build_definitions(str(data), str(db))
    instance = dg.DagsterInstance.ephemeral()
    sensor = defs.resolve_sensor_def("input_files")

    def tick(cursor=None):
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=cursor) as context:
            return sensor(context)

    first = tick()
    assert sorted(instance.get_dynamic_partitions("days")) == ["2024-03-04", "2024-03-05"]
    assert [r.partition_key_range or r.partition_key for r in first.run_requests] == [
        dg.PartitionKeyRange("2024-03-04", "2024-03-05")]
    quiet = tick(first.cursor)
    assert not quiet.run_requests
    # A late file for the first day arrives: only that day is requested.
    late = data / "gpu_samples" / "late-2024-03-04.csv"
    late.write_text("ts,host,gpu,power_w\n2024-03-04T12:00:00Z,gpu-a01,0,300\n2024-03-04T12:00:10Z,gpu-a01,0,300\n")
    result = tick(first.cursor)
    assert [r.partition_key for r in result.run_requests] == ["2024-03-04"]
    request = result.run_requests[0]
    run = defs.resolve_job_def("lca_tables").execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=request.tags)
    assert run.success
    ran = {e.partition for e in run.get_asset_materialization_events() if e.partition}
    assert ran == {"2024-03-04"}
    assert not tick(result.cursor).run_requests  # a run's own output never triggers another run


def test_late_day_before_known_days_keeps_partitions_in_date_order():
    import datetime as dt

    instance = dg.DagsterInstance.ephemeral()
    register_days(instance, {dt.date(2024, 3, 4), dt.date(2024, 3, 5)})
    register_days(instance, {dt.date(2019, 6, 3)})
    assert instance.get_dynamic_partitions("days") == ["2019-06-03", "2024-03-04", "2024-03-05"]


def test_failure_of_a_run_started_outside_the_cli_is_recorded(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    (data / "lca.toml").write_text('[grid]\nbasis = "sideways"\n')
    defs = build_definitions(str(data), str(db))
    instance = dg.DagsterInstance.ephemeral()
    register_days(instance, {__import__("datetime").date(2024, 3, 4)})
    result = defs.resolve_job_def("lca_tables").execute_in_process(
        instance=instance, partition_key="2024-03-04", raise_on_error=False)
    assert not result.success
    last = runlog.runs(db)[-1]
    assert last["status"] == "failure" and "basis" in last["failure"]
    assert not db.exists()
    with pytest.raises(SettingsError, match="basis"):  # `lca run` says so before launching anything
        run_pipeline(data, db, report=False)
    assert not db.exists()


def test_report_shows_its_own_run_finished(sample, tmp_path):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    outcome = run_pipeline(data, db, report=True)
    html = (db.parent / "report.html").read_text()
    assert f"latest run {outcome.run_id}" in html and "status success" in html
    assert os.path.samefile(db.parent / "report.html", next((db.parent / "versions").glob("*.report.html")))


def test_run_selected_days_and_assets(sample, tmp_path, capsys):
    data, db = _copy(sample, tmp_path), tmp_path / "w" / "lca.duckdb"
    run_pipeline(data, db, report=False)
    before = query(db, MART_TOTALS)
    assert main(["run", "--data", str(data), "--db", str(db), "--days", "2024-03-05",
                 "--select", "staging/gpu_samples", "--select", "intermediate.telemetry_energy_hourly"]) == 0
    out = capsys.readouterr().out
    assert "staging.gpu_samples" in out and "marts.stage_impacts" not in out.split("table")[0]
    assert query(db, MART_TOTALS) == before  # the marts were not rebuilt, and nothing was lost
    last = runlog.runs(db)[-1]
    assert last["status"] == "success" and last["partition_range"] == "2024-03-05..2024-03-05"
    assert main(["run", "--data", str(data), "--db", str(db), "--days", "March 5th"]) == 1
    assert "--days 'March 5th': give YYYY-MM-DD" in capsys.readouterr().err
