"""Foundation: definitions, SQL files, ingest with quarantine, idempotence and the lca command."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lca_pipeline import sql
from lca_pipeline.cli import main
from lca_pipeline.definitions import build_definitions
from lca_pipeline.resources import work_path_for
from lca_pipeline.runner import summary
from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import base_site, constant_power, hourly_grid, query, run, scalar, ts, write

REPO = Path(__file__).resolve().parents[1]


def test_definitions_load_with_layers_as_groups():
    from lca_pipeline.definitions import defs

    specs = list(defs.resolve_all_asset_specs())
    groups = {s.group_name for s in specs}
    assert groups == {"raw", "staging", "intermediate", "marts", "audit"}
    keys = {s.key.to_user_string() for s in specs}
    assert {"staging/gpu_samples", "marts/stage_impacts", "marts/job_impacts", "marts/fleet_daily"} <= keys
    for spec in specs:
        if spec.group_name != "raw":
            assert spec.description and "\n" not in spec.description.strip()
            assert spec.code_version
    assert defs.resolve_job_def("lca_refresh") is not None
    schedule = defs.resolve_schedule_def("nightly_refresh")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_dagster_definitions_validate():
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_sql_file_is_used_and_every_used_file_exists():
    import lca_pipeline.definitions  # noqa: F401  (every module that runs SQL registers it on import)
    import lca_pipeline.explain  # noqa: F401
    import lca_pipeline.manifest  # noqa: F401
    import lca_pipeline.runner  # noqa: F401
    import lca_pipeline.status  # noqa: F401

    used, present = sql.registered(), sql.available()
    assert not (present - used), f"orphan SQL files: {sorted(present - used)}"
    assert not (used - present), f"missing SQL files: {sorted(used - present)}"


def test_sql_values_are_parameters_not_formatted():
    import re

    for name in sql.available():
        text = sql.load(name)
        assert not re.search(r"\{[A-Za-z_]\w*\}", text), f"{name}: Python format placeholder"
        assert "%s" not in text and "?" not in text, f"{name}: use named $parameters"


def _malformed_gpu_file(data: Path) -> dict[str, int]:
    """1,000 rows of which 37 are malformed in different ways; returns the expected reason counts."""
    rng = random.Random(7)
    rows = [{"ts": ts(seconds=10 * i), "host": "h1", "gpu": i % 2, "power_w": f"{rng.uniform(50, 600):.2f}"}
            for i in range(1000)]
    # distinct (gpu, ts) keys: i % 2 alternates, ts unique per row
    bad = rng.sample(range(1, 1000), 37)
    kinds = (
        [("power_w", "abc", "not a number")] * 5
        + [("power_w", "-12.5", "negative power")] * 5
        + [("power_w", "99999", "power above physical bound ([telemetry] max_gpu_power_w)")] * 5
        + [("ts", "yesterday", "unparseable timestamp")] * 5
        + [("host", "", "missing required value")] * 4
        + [("host", "ghost-07", "unknown host (not in hosts)")] * 5
        + [("gpu", "x1", "not a GPU index (integer >= 0)")] * 4
        + [("dup", None, "duplicate key (host, gpu, ts)")] * 4
    )
    expected: dict[str, int] = {}
    for i, (col, value, reason) in zip(sorted(bad), kinds):
        if col == "dup":
            rows[i] = dict(rows[i - 1])
        else:
            rows[i][col] = value
        expected[reason] = expected.get(reason, 0) + 1
    assert sum(expected.values()) == 37
    write(data, "gpu_samples", rows)
    return expected


@pytest.mark.slow
def test_1000_rows_37_malformed_stage_963_and_quarantine_37(tmp_path):
    data = tmp_path / "data"
    base_site(data)
    hourly_grid(data, {h: 100.0 for h in range(0, 4)})
    expected = _malformed_gpu_file(data)
    db, _ = run(data, tmp_path)
    assert scalar(db, "SELECT sum(rows_staged) FROM staging.gpu_samples") == 963
    reasons = dict(query(db, "SELECT reason, count(*) FROM audit.quarantine WHERE input = 'gpu_samples' GROUP BY 1"))
    assert reasons == expected
    row = query(db, "SELECT rows_read, rows_staged, rows_quarantined, rows_pending FROM audit.source_files "
                    "WHERE input = 'gpu_samples'")[0]
    assert row == (1000, 963, 37, 0)
    sample = query(db, "SELECT source_file, source_row, column_name, raw_value, raw_row FROM audit.quarantine "
                       "WHERE reason = 'not a number'")[0]
    assert sample[0].endswith("gpu_samples.csv") and sample[2] == "power_w" and sample[3] == "abc"
    assert '"power_w":"abc"' in sample[4].replace(" ", "")


@pytest.mark.slow
def test_every_input_family_stages_and_quarantines(tmp_path):
    data = tmp_path / "data"
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.3}, {"site": "s2", "zone": "Z2", "pue": 0.5}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 2},
                          {"host": "h2", "site": "nowhere", "role": "compute"},
                          {"host": "h3", "site": "s1", "role": "kitchen"}])
    write(data, "node_samples", [{"ts": ts(0), "host": "h1", "component": "cpu", "power_w": 100},
                                 {"ts": ts(1), "host": "h1", "component": "gpu", "power_w": 100}])
    write(data, "gpu_samples", constant_power("h1", 0, 100, 0, 2, 60))
    write(data, "jobs", [
        {"job_id": "j1", "model": "m", "stage": "pretrain", "state": "COMPLETED", "start": ts(0), "end": ts(60)},
        {"job_id": "j2", "model": "m", "stage": "training", "state": "CANCELLED by 4021", "start": ts(0), "end": ts(5)},
        {"job_id": "j3", "model": "m", "stage": "training", "state": "COMPLETED", "start": ts(60), "end": ts(0)},
        {"job_id": "j4", "model": "m", "stage": "vibes", "state": "COMPLETED", "start": ts(0), "end": ts(5)},
        {"job_id": "j1", "model": "m", "stage": "training", "state": "COMPLETED", "start": ts(0), "end": ts(5)},
    ])
    (data / "lca.toml").write_text('[stages]\nmap = { pretrain = "training" }\n')
    write(data, "allocations", [{"job_id": "j1", "host": "h1", "gpu": 0}, {"job_id": "j1", "host": "h1", "gpu": 7},
                                {"job_id": "zz", "host": "h1", "gpu": 0}])
    write(data, "hardware", [
        {"asset_id": "a1", "kind": "gpu", "model": "H100", "quantity": 8, "site": "s1", "in_service": "2023-01-01",
         "lifetime_years": 4, "host": "h1"},
        {"asset_id": "a2", "kind": "toaster", "model": "x", "quantity": 1, "site": "s1", "in_service": "2023-01-01",
         "lifetime_years": 4},
        {"asset_id": "a3", "kind": "ssd", "model": "x", "quantity": 1, "site": "s1", "in_service": "2023-01-01",
         "lifetime_years": 4, "retired": "2022-01-01"},
    ])
    hourly_grid(data, {0: 100.0, 1: 100.0})
    write(data, "energy_contracts", [{"site": "s1", "valid_from": ts(60), "valid_to": ts(0), "mwh": 1,
                                      "gco2e_per_kwh": 0, "kind": "ppa"}])
    write(data, "residual_mix", [{"zone": "Z1", "year": 2024, "gco2e_per_kwh": 400}, {"zone": "Z1", "year": 2024,
                                                                                        "gco2e_per_kwh": 300}])
    write(data, "inference_usage", [{"model": "m", "date": "2024-01-01", "requests": 10},
                                    {"model": "m", "date": "2024-01-02", "requests": -1}])
    write(data, "models", [{"model": "m", "expected_lifetime_requests": 1e9}, {"model": "", "family": "f"}])
    db, _ = run(data, tmp_path)
    got = {(i, r) for i, r in query(db, "SELECT input, reason FROM audit.quarantine")}
    assert got == {
        ("sites", "PUE must be a number in [1, 5]"),
        ("hosts", "unknown site (not in sites)"),
        ("hosts", "unknown role (compute, storage, network, infra)"),
        ("node_samples", "unknown component (cpu, dram, other, node)"),
        ("jobs", "end before start"),
        ("jobs", "unknown stage label; map it with [stages] map in lca.toml"),
        ("jobs", "duplicate key (job_id)"),
        ("allocations", "GPU index beyond the host's gpu_count"),
        ("allocations", "unknown job (not in jobs)"),
        ("hardware", "unknown kind"),
        ("hardware", "end before start"),
        ("energy_contracts", "end before start"),
        ("residual_mix", "duplicate key (zone, year)"),
        ("inference_usage", "not a non-negative integer"),
        ("models", "missing required value"),
    }
    assert query(db, "SELECT stage, stage_label, state FROM staging.jobs ORDER BY job_id") == [
        ("training", "pretrain", "COMPLETED"), ("training", "training", "CANCELLED")]
    accounting = query(db, "SELECT count(*) FILTER (WHERE rows_read <> rows_staged + rows_quarantined + rows_pending) "
                           "FROM audit.source_files")[0][0]
    assert accounting == 0


@pytest.mark.slow
def test_missing_required_column_names_file_and_column(tmp_path, capsys):
    data = tmp_path / "data"
    base_site(data)
    write(data, "gpu_samples", [{"ts": ts(0), "host": "h1", "gpu": 0, "watts": 100}])
    code = main(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    assert "gpu_samples.csv" in err and "'power_w'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_setting_is_a_clear_one_line_error(tmp_path, capsys):
    data = tmp_path / "data"
    base_site(data)
    (data / "lca.toml").write_text('[grid]\nbasis = "sideways"\n')
    assert main(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "lca.toml" in err and "basis" in err and "direct" in err


def _fingerprint(db: Path) -> dict:
    tables = dict(summary(db))
    with duckdb.connect(str(db), read_only=True) as conn:
        totals = conn.execute(
            "SELECT sum(energy_it_kwh), sum(operational_co2e_location_kg), sum(operational_co2e_market_kg), sum(gpu_hours) FROM marts.stage_impacts"
        ).fetchone()
        # Samples are not stored: what was staged shows in the summary and the energy integrated from it.
        staged = conn.execute(
            "SELECT (SELECT sum(rows_staged) FROM staging.gpu_samples), "
            "(SELECT sum(CAST(energy_kwh AS DECIMAL(38, 12))) FROM intermediate.telemetry_energy_hourly)").fetchone()
    tables.pop("audit.runs")
    tables.pop("audit.publications")
    return {"tables": tables, "totals": totals, "staged": staged}


@pytest.mark.slow
def test_running_twice_changes_nothing(tmp_path):
    data = tmp_path / "sample"
    generate_sample(data, days=1, interval_s=60)
    db, _ = run(data, tmp_path)
    first = _fingerprint(db)
    run(data, tmp_path)
    second = _fingerprint(db)
    assert first == second
    assert scalar(db, "SELECT count(*) FROM audit.runs") == 2
    assert first["tables"]["marts.stage_impacts"] > 0


@pytest.mark.slow
def test_rematerialising_one_partition_replaces_it(tmp_path):
    data = tmp_path / "sample"
    generate_sample(data, days=2, interval_s=120)
    db = tmp_path / "p.duckdb"
    defs = build_definitions(str(data), str(db))
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and not a.is_observable]
    selection = [a for a in assets if a.key.path[0] == "staging" or a.key.to_user_string() ==
                 "intermediate/telemetry_energy_hourly"]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("days", ["2024-03-04", "2024-03-05"])
    for _ in range(2):
        result = dg.materialize(selection, resources=defs.resources, partition_key="2024-03-05", instance=instance)
        assert result.success
    db = work_path_for(db)  # a materialisation outside a full refresh writes the work area, unpublished
    counts = query(db, "SELECT partition_day, sum(rows_staged) FROM staging.gpu_samples GROUP BY 1")
    assert [str(d) for d, _ in counts] == ["2024-03-05"]
    with duckdb.connect() as conn:
        in_file = conn.execute("SELECT count(*) FROM read_parquet(?)",
                               [str(data / "gpu_samples" / "part-2024-03-05.parquet")]).fetchall()[0][0]
    assert counts[0][1] == in_file - scalar(
        db, "SELECT count(*) FROM audit.quarantine WHERE input = 'gpu_samples' AND partition_day = '2024-03-05'")
    energy = query(db, "SELECT count(*), sum(energy_kwh) FROM intermediate.telemetry_energy_hourly")[0]
    result = dg.materialize(selection, resources=defs.resources, partition_key="2024-03-05", instance=instance)
    assert result.success
    again = query(db, "SELECT count(*), sum(energy_kwh) FROM intermediate.telemetry_energy_hourly")[0]
    assert again[0] == energy[0]
    assert again[1] == pytest.approx(energy[1], rel=1e-12)  # same rows; only the float summation order may differ


@pytest.mark.slow
def test_hourly_energy_reads_samples_from_their_files_and_names_one_that_is_gone(tmp_path):
    data = tmp_path / "sample"
    generate_sample(data, days=1, interval_s=600)
    db = tmp_path / "g.duckdb"
    defs = build_definitions(str(data), str(db))
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and not a.is_observable]
    hourly = [a for a in assets if a.key.to_user_string() == "intermediate/telemetry_energy_hourly"]
    selection = [a for a in assets if a.key.path[0] == "staging"] + hourly
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("days", ["2024-03-04"])
    assert dg.materialize(selection, resources=defs.resources, partition_key="2024-03-04", instance=instance).success
    work = work_path_for(db)
    # The warehouse holds no sample: staging is a per day, file and host summary.
    cols = {c for (c,) in query(work, "SELECT column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'staging' AND table_name = 'gpu_samples'")}
    assert cols == {"partition_day", "source_file", "host", "rows_staged", "first_ts", "last_ts"}
    part = data / "gpu_samples" / "part-2024-03-04.parquet"
    part.rename(tmp_path / "moved.parquet")
    with pytest.raises(Exception, match=r"part-2024-03-04\.parquet: staged as gpu_samples input but cannot be read now"):
        dg.materialize(hourly, resources=defs.resources, partition_key="2024-03-04", instance=instance)
    (tmp_path / "moved.parquet").rename(part)
    assert dg.materialize(hourly, resources=defs.resources, partition_key="2024-03-04", instance=instance).success


@pytest.mark.slow
def test_lca_demo_end_to_end(tmp_path, capsys):
    data, db = tmp_path / "sample", tmp_path / "w" / "lca.duckdb"
    generate_sample(data, days=1, interval_s=60)
    assert main(["demo", "--data", str(data), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "staging.gpu_samples" in out and "marts.stage_impacts" in out
    import re

    passed, total = map(int, re.search(r"checks: (\d+)/(\d+) passed", out).groups())
    assert passed == total >= 7
    stages = {s for (s,) in query(db, "SELECT DISTINCT stage FROM marts.stage_impacts")}
    assert {"training", "inference", "experimentation", "unallocated"} <= stages
    assert scalar(db, "SELECT sum(rows_staged) FROM staging.gpu_samples") > 0
