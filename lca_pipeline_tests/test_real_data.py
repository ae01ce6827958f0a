"""Real exports from ../shared/data through importers, staging and the whole pipeline.

Skipped in a user's clone (no ../shared), required in CI. Nothing here is copied into the repo:
files are imported from ../shared into tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lca_pipeline.ingest import stage_input
from lca_pipeline.materialize import ensure_schemas
from lca_pipeline.runner import run_pipeline
from lca_pipeline.settings import Settings
from lca_pipeline_tests.builders import write
from lca_pipeline_tests.test_importers import PARAMS, SONAR_SACCT_FIELDS, SOURCES, imported  # noqa: F401

# Every test here runs the pipeline: not in the everyday `pytest -m "not slow"` subset.
pytestmark = pytest.mark.slow

STAGING_ORDER = ("sites", "hosts", "jobs", "allocations", "gpu_samples", "grid_intensity", "pcf_factors")


def _topology(data_dir: Path) -> None:
    """One site and every host the imported files name, so that accounting is not about topology."""
    hosts: set[str] = set()
    with duckdb.connect() as conn:
        for name in ("gpu_samples", "allocations"):
            for path in sorted((data_dir / name).glob("*.csv")):
                hosts |= {h for (h,) in conn.execute(
                    "SELECT DISTINCT host FROM read_csv(?, all_varchar = true, header = true) WHERE host IS NOT NULL",
                    [str(path)]).fetchall()}
    write(data_dir, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.2}])
    write(data_dir, "hosts", [{"host": h, "site": "s1", "role": "compute"} for h in sorted(hosts)]
          or [{"host": "none", "site": "s1", "role": "compute"}])


@pytest.mark.parametrize("folder,name", [p for p in PARAMS if SOURCES[tuple(p.values)][0] != "boavizta-pcf"]
                         + [p for p in PARAMS if SOURCES[tuple(p.values)][0] == "boavizta-pcf"])
def test_real_file_rows_in_equal_staged_plus_quarantined(imported, folder, name, tmp_path):  # noqa: F811
    _, data_dir, result = imported(folder, name)
    f = result.files[0]
    assert f.rows_in == f.rows_out + f.rows_folded
    work = tmp_path / "data"
    for input_name, path in f.outputs.items():
        (work / input_name).mkdir(parents=True, exist_ok=True)
        # A copy, not a symlink: staging refuses symlinks that leave the data folder.
        shutil.copyfile(path, work / input_name / Path(path).name)
    _topology(work)
    with duckdb.connect(str(tmp_path / "acc.duckdb")) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        ensure_schemas(conn)
        for input_name in STAGING_ORDER:
            stage_input(conn, input_name, [work], Settings().sql_params(), "test")
        for input_name, path in f.outputs.items():
            read, staged, quarantined, pending = conn.execute(
                "SELECT rows_read, rows_staged, rows_quarantined, rows_pending FROM audit.source_files "
                "WHERE input = ? AND path LIKE ?", [input_name, f"%{Path(path).name}"]).fetchall()[0]
            assert read == staged + quarantined and pending == 0
            assert read == f.rows_written[input_name]
        primary = next(iter(f.outputs))
        staged, quarantined = conn.execute(
            "SELECT rows_staged, rows_quarantined FROM audit.source_files WHERE input = ?", [primary]).fetchall()[0]
        per_row = 2 if result.kind == "electricitymaps" else 1  # one row per basis (direct, lifecycle)
        # rows in = rows staged + rows quarantined (+ rows folded into another row, e.g. sacct steps)
        assert f.rows_in * per_row == staged + quarantined + f.rows_folded * per_row
        if f.rows_flagged:
            flagged = conn.execute("SELECT count(*) FROM audit.quarantine WHERE input = ? AND reason LIKE 'import: %'",
                                   [primary]).fetchall()[0][0]
            assert flagged == f.rows_flagged * per_row


def _independent_trapezoid_kwh(path: Path, gpus: int) -> float:
    """The H100 trace integrated without the pipeline: 8 consecutive rows per sample, order = GPU."""
    df = pd.read_csv(path, skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    stamps = pd.to_datetime(df["timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    ts = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy()
    watts = df["power.draw [W]"].str.replace(" W", "", regex=False).astype(float).to_numpy()
    gpu = np.arange(len(df)) % gpus
    total_j = 0.0
    for g in range(gpus):
        t, p = ts[gpu == g], watts[gpu == g]
        total_j += float(np.sum((p[1:] + p[:-1]) / 2 * np.diff(t)))
    return total_j / 3.6e6


def _real_cluster(data: Path, shared: Path) -> None:
    """A data directory of real exports only, in importer-kind folders, plus the site topology."""
    sources = {
        "nvidia-smi": shared / "real/gpu_telemetry/training_profile__power-trace_2025-07-26-23-32-09.csv",
        "sacct": shared / "real/scheduler/sonar__sacct_output.txt",
        "electricitymaps": shared / "grid/electricitymaps/US-CAL-CISO_2024_hourly.csv",
    }
    for kind, path in sources.items():
        (data / kind).mkdir(parents=True)
        (data / kind / path.name).symlink_to(path)
    (data / "lca.toml").write_text(
        '[nvidia-smi]\nhost = "gpu-1"\n\n'
        f'[sacct]\nfields = "{SONAR_SACCT_FIELDS}"\nnow = "2025-09-13T00:00:00"\n'
        'rules = [\n'
        '  { match = "^siam(?P<model>[A-Za-z0-9]+)", field = "JobName", stage = "training" },\n'
        '  { match = "^accel", field = "Partition", model = "accel-misc", stage = "experimentation" },\n'
        ']\n\n[grid]\nbasis = "lifecycle"\n')
    nodes = [f"gpu-{i}" for i in range(1, 15)] + [f"c1-{i}" for i in range(1, 30)] + [f"c{i}-{j}" for i in range(2, 4)
                                                                                       for j in range(1, 30)]
    write(data, "sites", [{"site": "oslo", "zone": "US-CAL-CISO", "pue": 1.3}])
    write(data, "hosts", [{"host": n, "site": "oslo", "role": "compute", "gpu_count": 8, "gpu_model": "A100-SXM4-80GB"}
                          for n in nodes])


def test_real_inputs_end_to_end(shared_data, tmp_path):
    data = tmp_path / "real"
    _real_cluster(data, shared_data)
    db = tmp_path / "real.duckdb"
    run_pipeline(data, db)
    with duckdb.connect(str(db), read_only=True) as conn:
        measured = conn.execute("SELECT sum(energy_kwh) FROM intermediate.telemetry_energy_hourly "
                                "WHERE component = 'gpu'").fetchall()[0][0]
        trace = shared_data / "real/gpu_telemetry/training_profile__power-trace_2025-07-26-23-32-09.csv"
        independent = _independent_trapezoid_kwh(trace, 8)
        assert abs(measured - independent) / independent < 0.001
        stages = dict(conn.execute("SELECT stage, count(*) FROM marts.stage_impacts GROUP BY 1").fetchall())
        assert "unallocated" in stages and ("training" in stages or "experimentation" in stages)
        mapped = conn.execute("SELECT sum(energy_it_kwh) FROM marts.stage_impacts WHERE stage IN "
                              "('training', 'experimentation')").fetchall()[0][0]
        assert mapped > 0  # sacct jobs mapped by rules carry (estimated) energy
        assert conn.execute("SELECT count(*) FROM marts.stage_impacts WHERE operational_co2e_location_kg > 0").fetchall()[0][0] > 0
        fallback = conn.execute("SELECT DISTINCT fallback, fallback_year FROM intermediate.grid_hourly").fetchall()
        assert ("annual_mean", 2024) in fallback  # the 2025 trace and jobs take 2024's mean, labelled
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM audit.imports").fetchall()}
        assert kinds == {"nvidia-smi", "sacct", "electricitymaps"}
