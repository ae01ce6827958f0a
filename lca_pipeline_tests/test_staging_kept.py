"""An unpartitioned input is staged again only when something its table depends on changed.

A nightly run reads the day's new telemetry; its small inputs (sites, hosts, a year of jobs and
allocations, grid data) are usually the same files as the night before. Their staging is kept when
the key in audit.staged_inputs is unchanged: same files (by SHA-256), statement, settings, reader
code, and the same keys for the inputs they are checked against.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lca_pipeline.ingest import stage_input
from lca_pipeline.materialize import ensure_schemas
from lca_pipeline.settings import load_settings
from lca_pipeline_tests.builders import base_site, write

INPUTS = ("sites", "hosts", "jobs", "allocations")


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    base_site(data)
    write(data, "jobs", [
        {"job_id": "A", "model": "m", "stage": "training", "state": "COMPLETED",
         "start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:30:00Z"},
        {"job_id": "B", "model": "m", "stage": "training", "state": "COMPLETED",
         "start": "2024-01-01T01:00:00Z", "end": "2024-01-01T02:00:00Z"},
        # no end: quarantined, so the table and its quarantine rows are both part of what is kept
        {"job_id": "C", "model": "m", "stage": "training", "state": "COMPLETED",
         "start": "2024-01-01T01:00:00Z", "end": "not a time"},
    ])
    write(data, "allocations", [{"job_id": "A", "host": "h1", "gpu": 0}, {"job_id": "B", "host": "h1", "gpu": 1},
                                {"job_id": "C", "host": "h1", "gpu": 0}])
    return data


def _stage_all(conn, data: Path, run_id: str, params: dict | None = None) -> dict:
    params = params or load_settings(None).sql_params()
    return {name: stage_input(conn, name, [data], params, run_id) for name in INPUTS}


def _tables(conn) -> dict:
    out = {name: conn.execute(f"SELECT * FROM staging.{name} ORDER BY ALL").fetchall() for name in INPUTS}
    out["quarantine"] = conn.execute(
        "SELECT input, source_file, source_row, reason FROM audit.quarantine ORDER BY ALL").fetchall()
    out["ingest_counts"] = conn.execute(
        "SELECT input, source_file, rows_staged, rows_quarantined FROM audit.ingest_counts ORDER BY ALL").fetchall()
    out["source_files"] = conn.execute(
        "SELECT input, path, sha256, rows_read, rows_staged, rows_quarantined FROM audit.source_files "
        "ORDER BY ALL").fetchall()
    return out


@pytest.fixture
def conn(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schemas(c)
    yield c
    c.close()


def test_unchanged_inputs_are_kept_with_their_accounting(tmp_path, conn):
    data = _data(tmp_path)
    first = _stage_all(conn, data, "r1")
    assert all(r.kept_from_run is None for r in first.values())
    before = _tables(conn)
    assert before["quarantine"], "the fixture must quarantine a row, so keeping it is tested too"
    second = _stage_all(conn, data, "r2")
    assert {n: r.kept_from_run for n, r in second.items()} == {n: "r1" for n in INPUTS}
    for name in INPUTS:
        a, b = first[name], second[name]
        assert (b.files, b.rows_staged, b.rows_quarantined, b.reasons, b.content_hash) == \
            (a.files, a.rows_staged, a.rows_quarantined, a.reasons, a.content_hash), name
    assert _tables(conn) == before
    # the tables kept are those a fresh staging gives
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    ensure_schemas(fresh)
    _stage_all(fresh, data, "f1")
    assert _tables(fresh) == before


def test_a_changed_file_restages_its_input_and_the_inputs_checked_against_it(tmp_path, conn):
    data = _data(tmp_path)
    _stage_all(conn, data, "r1")
    # job B ends later: jobs changes, and allocations (checked against jobs) is staged again with it
    text = (data / "jobs.csv").read_text().replace("2024-01-01T02:00:00Z", "2024-01-01T03:00:00Z")
    (data / "jobs.csv").write_text(text)
    again = _stage_all(conn, data, "r2")
    assert {n: r.kept_from_run for n, r in again.items()} == {
        "sites": "r1", "hosts": "r1", "jobs": None, "allocations": None}
    assert conn.execute("SELECT max(\"end\") FROM staging.jobs").fetchone()[0].hour == 3
    # a changed site: everything below it is staged again
    (data / "sites.csv").write_text((data / "sites.csv").read_text().replace("1.5", "1.4"))
    third = _stage_all(conn, data, "r3")
    assert all(r.kept_from_run is None for r in third.values())
    assert conn.execute("SELECT pue FROM staging.sites").fetchone()[0] == pytest.approx(1.4)


def test_a_parent_quarantining_more_rows_reaches_the_children(tmp_path, conn):
    """hosts unchanged, but its site now fails its check: hosts must be staged again (cascade)."""
    data = _data(tmp_path)
    _stage_all(conn, data, "r1")
    assert conn.execute("SELECT count(*) FROM staging.hosts").fetchone()[0] == 1
    (data / "sites.csv").write_text((data / "sites.csv").read_text().replace("1.5", "-3"))
    again = _stage_all(conn, data, "r2")
    assert again["hosts"].kept_from_run is None
    assert conn.execute("SELECT count(*) FROM staging.hosts").fetchone()[0] == 0
    assert any(reason.startswith("cascade") for reason in again["hosts"].reasons), again["hosts"].reasons


def test_changed_settings_or_a_missing_table_restage(tmp_path, conn):
    data = _data(tmp_path)
    _stage_all(conn, data, "r1")
    (data / "lca.toml").write_text('[data]\nwindow_start = "2023-01-01"\n')
    params = load_settings(data / "lca.toml").sql_params()
    again = _stage_all(conn, data, "r2", params)
    assert all(r.kept_from_run is None for r in again.values())
    conn.execute("DROP TABLE staging.jobs")
    third = _stage_all(conn, data, "r3", params)
    assert third["jobs"].kept_from_run is None and third["sites"].kept_from_run == "r2"
    assert conn.execute("SELECT count(*) FROM staging.jobs").fetchone()[0] == 2


def test_a_file_removed_restages(tmp_path, conn):
    data = _data(tmp_path)
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 2,
                           "gpu_model": "H100-SXM5-80GB"}])
    extra = data / "hosts" / "more.csv"
    extra.parent.mkdir()
    extra.write_text("host,site,role,gpu_count,gpu_model\nh2,s1,compute,2,H100-SXM5-80GB\n")
    first = _stage_all(conn, data, "r1")
    assert first["hosts"].files == 2
    extra.unlink()
    again = _stage_all(conn, data, "r2")
    assert again["hosts"].kept_from_run is None and again["hosts"].files == 1
    assert conn.execute("SELECT list(host) FROM staging.hosts").fetchone()[0] == ["h1"]


def _window(data: Path, end: str, start: str = "2023-01-01") -> dict:
    (data / "lca.toml").write_text(f'[data]\nwindow_start = "{start}"\nwindow_end = "{end}"\n')
    return load_settings(data / "lca.toml").sql_params()


def test_a_data_window_that_only_grew_keeps_the_staging(tmp_path, conn):
    # The default window ends tomorrow, so it moves every night: that alone must not restage.
    data = _data(tmp_path)
    _stage_all(conn, data, "r1", _window(data, "2024-06-01"))
    again = _stage_all(conn, data, "r2", _window(data, "2024-06-02"))
    assert {n: r.kept_from_run for n, r in again.items()} == {n: "r1" for n in INPUTS}


def test_rows_outside_the_old_window_are_staged_when_it_grows(tmp_path, conn):
    data = _data(tmp_path)
    jobs = (data / "jobs.csv").read_text() + "D,m,training,COMPLETED,2024-06-01T12:00:00Z,2024-06-01T13:00:00Z\n"
    (data / "jobs.csv").write_text(jobs)
    first = _stage_all(conn, data, "r1", _window(data, "2024-06-01"))
    assert any(r.startswith("outside the data window") for r in first["jobs"].reasons), first["jobs"].reasons
    again = _stage_all(conn, data, "r2", _window(data, "2024-06-03"))
    assert again["sites"].kept_from_run == "r1"  # no row of it was outside
    assert again["jobs"].kept_from_run is None and again["allocations"].kept_from_run is None
    assert conn.execute("SELECT count(*) FROM staging.jobs WHERE job_id = 'D'").fetchone()[0] == 1


def test_a_data_window_that_shrank_restages(tmp_path, conn):
    data = _data(tmp_path)
    _stage_all(conn, data, "r1", _window(data, "2024-06-01"))
    again = _stage_all(conn, data, "r2", _window(data, "2024-06-01", start="2024-01-02"))
    assert again["jobs"].kept_from_run is None and again["allocations"].kept_from_run is None
    assert conn.execute("SELECT count(*) FROM staging.jobs").fetchone()[0] == 0
