"""Telemetry slices fanned out on Dagster's multiprocess executor give the in-process run's tables."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lca_pipeline import runlog
from lca_pipeline.runner import INSTANCE_YAML, run_pipeline
from lca_pipeline.sample import generate_sample

# Runs the pipeline twice, once with a process per step: slow.
pytestmark = pytest.mark.slow

SLICE = "intermediate__telemetry_energy_hourly__slice["


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("fanout") / "sample"
    generate_sample(data, days=2, interval_s=300)
    # One slice per (day, site), so four steps can run side by side (the two small days of a site
    # would otherwise share one slice).
    with open(data / "lca.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[telemetry]\nslice_samples = 0\n")
    return data


def _step_spans(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) wall-clock seconds of every step of the run, from its event log."""
    starts: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            spans[event.step_key] = (starts[event.step_key], entry.timestamp)
    return spans


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_multiprocess_run_over_two_sites_and_two_days_equals_in_process(sample, tmp_path):
    instance = dg.DagsterInstance.get()
    one = run_pipeline(sample, tmp_path / "in_process" / "lca.duckdb", report=False, instance=instance)
    many = run_pipeline(sample, tmp_path / "multiprocess" / "lca.duckdb", report=False, instance=instance,
                        executor="multiprocess", max_concurrent=4)
    assert one.partition_range == many.partition_range == ("2024-03-04", "2024-03-05")

    # Every table the manifest fingerprints (marts and intermediates) is byte-identical.
    outputs = [json.loads(o.manifest.read_text())["outputs"] for o in (one, many)]
    assert outputs[0] and outputs[0] == outputs[1]

    # One slice step per (day, site): 2 days x 2 sites, and the slices did run side by side.
    spans = _step_spans(instance, many.run_id)
    slices = {k: v for k, v in spans.items() if SLICE in k}
    assert len(slices) == 4, sorted(spans)
    keys = sorted(slices)
    assert any(_overlap(slices[a], slices[b]) for i, a in enumerate(keys) for b in keys[i + 1:])
    # Steps that open the work database never overlap: it has one writer.
    writers = sorted((v, k) for k, v in spans.items() if not SLICE in k)
    for (a, ka), (b, kb) in zip(writers, writers[1:]):
        assert a[1] <= b[0] + 1e-3, f"{ka} and {kb} ran at the same time"


def test_each_slice_holds_its_own_sites_hosts_and_all_slices_make_the_table(sample, tmp_path):
    db = tmp_path / "w" / "lca.duckdb"
    run_pipeline(sample, db, report=False, instance=dg.DagsterInstance.get())
    parts = sorted((db.parent / ".work" / "parts" / "intermediate.telemetry_energy_hourly").glob("day=*/*.parquet"))
    assert [p.relative_to(p.parents[1]).as_posix() for p in parts] == [
        f"day={d}/site={s}.parquet" for d in ("2024-03-04", "2024-03-05") for s in ("site-a", "site-b")]
    conn = duckdb.connect(str(db), read_only=True)
    for part in parts:
        site = part.stem.removeprefix("site=")
        hosts = conn.execute(
            "SELECT DISTINCT p.host, h.site FROM read_parquet($p, hive_partitioning = false) AS p "
            "LEFT JOIN staging.hosts AS h USING (host)", {"p": str(part)}).fetchall()
        assert hosts and {s for _, s in hosts} == {site}, part
    union = conn.execute(
        "SELECT count(*), sum(energy_kwh) FROM read_parquet($p, hive_partitioning = false)",
        {"p": [str(p) for p in parts]}).fetchall()[0]
    table = conn.execute("SELECT count(*), sum(energy_kwh) FROM intermediate.telemetry_energy_hourly").fetchall()[0]
    assert union[0] == table[0] > 0
    assert union[1] == pytest.approx(table[1], rel=1e-12)


def test_a_killed_runs_publish_slot_is_given_back(sample, tmp_path):
    # The instance `lca` writes limits the publish pool to one slot; a run killed while publishing
    # keeps its claim, and the next refresh must not wait for it forever.
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    instance = dg.DagsterInstance.from_config(str(home))
    db = tmp_path / "w" / "lca.duckdb"
    db.parent.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    killed = "0dead000-0000-4000-8000-000000000000"
    runlog.append(db, "started", killed, pid=gone.pid, host=socket.gethostname())
    # What a step does before its first claim: the pool takes the instance's default limit (1).
    instance.event_log_storage.initialize_concurrency_limit_to_default("lca_publish")
    assert instance.event_log_storage.claim_concurrency_slot("lca_publish", killed, "audit__publications").is_claimed
    assert not instance.event_log_storage.claim_concurrency_slot("lca_publish", "other", "x").is_claimed
    instance.event_log_storage.free_concurrency_slots_for_run("other")

    done = subprocess.run([sys.executable, "-m", "lca_pipeline.cli", "run", "--data", str(sample), "--db", str(db)],
                          env={**os.environ, "DAGSTER_HOME": str(home)}, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [r["status"] for r in runlog.runs(db)] == ["abandoned", "success"]
    assert not instance.event_log_storage.get_concurrency_info("lca_publish").claimed_slots
