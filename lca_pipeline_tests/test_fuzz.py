"""Property-based fuzzing of staging (CSV and Parquet), of every importer and of one whole run.

Rows are drawn from each contract's types plus hostile values (NaN, Infinity, 1e308, fractions
where integers belong, 1970/2100 dates, SQL and formula text, quotes, newlines, odd Unicode). The
properties: nothing crashes, no staged or mart floating-point value is NaN or Infinity, and every
file balances (rows_read = staged + quarantined + pending, none negative). Example counts are
bounded so the module runs in well under 30 s.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lca_pipeline import sql
from lca_pipeline.importers import ImporterError, import_source
from lca_pipeline.ingest import stage_input, validated_ctes
from lca_pipeline.inputs import INPUTS
from lca_pipeline.materialize import ensure_schemas
from lca_pipeline.runner import RunFailed, run_pipeline
from lca_pipeline.settings import Settings

HOSTILE = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-320", "-1", "0", "2.5", "abc",
    "1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-03-04T00:00:00+14:00",
    "'; DROP TABLE staging.jobs; --", '=HYPERLINK("http://x")', "a,b", 'q"uote', "line\nbreak", "\u202e",
    "\U0001d518\U0001d52b", " 3 ", "0x10", "1_000", "9" * 40, "-0", "true",
]
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
VALUE = st.one_of(
    st.sampled_from(HOSTILE),
    FLOATS.map(repr),
    st.integers(-(2**70), 2**70).map(str),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.text(max_size=12),
)
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
RUN = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Valid values per column, so a drawn row is often one bad value away from a good one.
GOOD = {
    "ts": "2024-01-01T00:10:00Z", "host": "h1", "gpu": "0", "power_w": "300", "site": "s1", "zone": "Z1",
    "pue": "1.5", "role": "compute", "job_id": "j1", "model": "m1", "stage": "training", "state": "COMPLETED",
    "start": "2024-01-01T00:00:00Z", "end": "2024-01-01T01:00:00Z", "asset_id": "a1", "kind": "gpu",
    "quantity": "1", "in_service": "2023-01-01", "lifetime_years": "5", "gco2e_per_kwh": "300",
    "valid_from": "2024-01-01T00:00:00Z", "valid_to": "2024-02-01T00:00:00Z", "mwh": "1", "year": "2024",
    "date": "2024-01-01", "requests": "10", "manufacturer": "Dell", "name": "R750", "gwp_total_kgco2e": "1000",
    "component": "cpu",
}
FUZZED_INPUTS = ("gpu_samples", "node_samples", "jobs", "allocations", "hardware", "sites", "hosts",
                 "grid_intensity", "energy_contracts", "residual_mix", "inference_usage", "pcf_factors", "models")


def _parents(data: Path) -> None:
    pd.DataFrame([{"site": "s1", "zone": "Z1", "pue": "1.5"}]).to_csv(data / "sites.csv", index=False)
    pd.DataFrame([{"host": "h1", "site": "s1", "role": "compute", "gpu_count": "2"}]).to_csv(
        data / "hosts.csv", index=False)
    pd.DataFrame([{"job_id": "j1", "model": "m1", "stage": "training", "state": "COMPLETED",
                   "start": "2024-01-01T00:00:00Z", "end": "2024-01-01T01:00:00Z"}]).to_csv(
        data / "jobs.csv", index=False)


def _rows(draw, columns: tuple[str, ...], n: int) -> list[dict]:
    rows = []
    for _ in range(n):
        row = {c: GOOD.get(c, "") for c in columns}
        for c in draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True)):
            row[c] = draw(VALUE)
        rows.append(row)
    return rows


def _assert_balanced_and_finite(conn: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    bad = conn.execute(
        "SELECT path, rows_read, rows_staged, rows_quarantined, rows_pending FROM audit.source_files "
        "WHERE rows_read <> rows_staged + rows_quarantined + rows_pending "
        "OR least(rows_read, rows_staged, rows_quarantined, rows_pending) < 0").fetchall()
    assert bad == []
    for table in tables:
        schema, name = table.split(".")
        cols = [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND data_type IN ('DOUBLE', 'FLOAT')", [schema, name]).fetchall()]
        for c in cols:
            n = conn.execute(f'SELECT count(*) FROM {schema}."{name}" WHERE NOT isfinite("{c}")').fetchall()[0][0]
            assert n == 0, f"{table}.{c} holds {n} non-finite values"


def _stage(data: Path, target: str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    ensure_schemas(conn)
    params = Settings().sql_params()
    for name in dict.fromkeys(("sites", "hosts", "jobs", target)):
        stage_input(conn, name, [data], params, "fuzz")
    return conn


@FUZZ
@given(data=st.data(), target=st.sampled_from(FUZZED_INPUTS))
def test_csv_staging_never_crashes_and_balances(data, target):
    spec = INPUTS[target]
    columns = spec.required + tuple(data.draw(st.lists(st.sampled_from(spec.optional or ("_",)), max_size=3, unique=True)))
    columns = tuple(c for c in dict.fromkeys(columns) if c != "_")
    rows = _rows(data.draw, columns, data.draw(st.integers(1, 6)))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _parents(root)
        folder = root / target
        folder.mkdir()
        pd.DataFrame(rows, columns=list(columns), dtype=str).to_csv(folder / "fuzz.csv", index=False)
        conn = _stage(root, target)
        _assert_balanced_and_finite(conn, [f"staging.{target}"])
        staged, quarantined = conn.execute(
            "SELECT rows_staged, rows_quarantined FROM audit.source_files WHERE path LIKE '%fuzz.csv'").fetchall()[0]
        assert staged + quarantined >= 1 and staged <= len(rows)


@FUZZ
@given(power=st.lists(FLOATS, min_size=1, max_size=5), energy=st.lists(FLOATS, min_size=1, max_size=5),
       gpu=st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=5),
       seconds=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=5))
def test_parquet_staging_of_typed_hostile_values(power, energy, gpu, seconds):
    n = min(len(power), len(energy), len(gpu), len(seconds))
    table = pa.table({
        "ts": pa.array([s * 1_000_000 for s in seconds[:n]], pa.timestamp("us")),
        "host": pa.array(["h1"] * n),
        "gpu": pa.array(gpu[:n], pa.int32()),
        "power_w": pa.array(power[:n], pa.float64(), from_pandas=False),
        "energy_mj": pa.array(energy[:n], pa.float64(), from_pandas=False),
    })
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _parents(root)
        (root / "gpu_samples").mkdir()
        pq.write_table(table, root / "gpu_samples" / "fuzz.parquet")
        conn = _stage(root, "gpu_samples")
        _assert_balanced_and_finite(conn, ["staging.gpu_samples"])
        staged = conn.execute("SELECT sum(rows_staged) FROM staging.gpu_samples").fetchall()[0][0] or 0
        # The staged rows are not stored: read them as the hourly energy step does, from the file.
        ctes, bound = validated_ctes(conn, ("gpu_samples",), [root], Settings().sql_params(), None, None)
        text = f"WITH {ctes} SELECT count(*), count(*) FILTER (WHERE NOT isfinite(power_w) " \
               "OR NOT isfinite(energy_counter_kwh)) FROM valid_gpu_samples"
        read, non_finite = conn.execute(text, sql.params_in(text, bound)).fetchall()[0]
        assert (read, non_finite) == (staged, 0)
        plausible = sum(1 for i in range(n) if math.isfinite(power[i]) and 0 <= power[i] <= 3000
                        and gpu[i] >= 0 and 1262304000 <= seconds[i] < 4102444800)
        assert staged <= plausible


IMPORTER_FORMATS = {
    "nvidia-smi": ("x.csv", "timestamp, index, name, uuid, power.draw [W], utilization.gpu [%], memory.used [MiB]",
                   7, ", "),
    "codecarbon": ("emissions.csv", "timestamp,project_name,run_id,experiment_id,duration,emissions,"
                   "emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed",
                   14, ","),
    "sacct": ("sacct.txt", "JobID|JobName|Account|User|State|Start|End|NodeList|AllocTRES|ConsumedEnergyRaw|Partition",
              11, "|"),
    "electricitymaps": ("DE_2024_hourly.csv", "Datetime (UTC),Country,Zone Name,Zone Id,"
                        "Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA),"
                        "Low Carbon Percentage,Renewable Percentage,Data Source,Data Estimated,Data Estimation Method",
                        11, ","),
    "boavizta-pcf": ("boavizta-data-us.csv", "manufacturer,name,category,subcategory,gwp_total,gwp_use_ratio,"
                     "yearly_tec,lifetime,use_location,report_date,sources,gwp_manufacturing_ratio", 12, ","),
    "dcgm": ("scrape.prom", None, 0, ""),
    "nvidia-smi-q": ("report.txt", None, 0, ""),
}
TOKEN = st.sampled_from(HOSTILE + ["1", "2024-01-01T00:00:00", "COMPLETED", "node[01-02]", "gres/gpu=2"]).map(
    lambda s: s.replace("\n", " "))


def _export(draw, kind: str) -> str:
    name, header, width, sep = IMPORTER_FORMATS[kind]
    n = draw(st.integers(1, 5))
    if kind == "dcgm":
        lab = '{gpu="0",UUID="GPU-0",modelName="NVIDIA A100",Hostname="node7"}'
        return "".join(f"DCGM_FI_DEV_POWER_USAGE{lab} {draw(TOKEN).replace(' ', '')} {draw(TOKEN).replace(' ', '')}\n"
                       for _ in range(n))
    if kind == "nvidia-smi-q":
        return ("==============NVSMI LOG==============\n\nTimestamp : " + draw(TOKEN) + "\nAttached GPUs : 1\n"
                "GPU 00000000:07:00.0\n    Product Name : NVIDIA A100\n    GPU UUID : GPU-1\n"
                "    GPU Power Readings\n        Power Draw : " + draw(TOKEN) + " W\n")
    lines = [header] + [sep.join(draw(TOKEN).replace(sep.strip() or "|", " ") for _ in range(width)) for _ in range(n)]
    return "\n".join(lines) + "\n"


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data(), kind=st.sampled_from(sorted(IMPORTER_FORMATS)))
def test_importers_never_crash_and_their_output_stages_balanced(data, kind):
    text = _export(data.draw, kind)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "src" / IMPORTER_FORMATS[kind][0]
        src.parent.mkdir()
        src.write_text(text, encoding="utf-8")
        out = root / "data"
        out.mkdir()
        _parents(out)
        try:
            result = import_source(kind, src, out, {"sacct": {"now": "2025-01-01T00:00:00"}, "host": "h1"})
        except ImporterError as exc:  # a file not of the kind at all: one clear line naming it
            assert str(src) in str(exc) or kind in str(exc)
            return
        for f in result.files:
            assert f.rows_in == f.rows_out + f.rows_folded
            for input_name in f.outputs:
                conn = _stage(out, input_name)
                _assert_balanced_and_finite(conn, [f"staging.{input_name}"])


@pytest.mark.slow
@RUN
@given(data=st.data())
def test_whole_run_marts_are_finite_and_files_balance(data):
    """A small hand-sized directory with hostile rows in every numeric input runs to the end."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        d = root / "data"
        d.mkdir()
        _parents(d)
        pd.DataFrame([{"zone": "Z1", "ts": f"2024-01-01T0{h}:00:00Z", "gco2e_per_kwh": "300"} for h in range(3)]
                     ).to_csv(d / "grid_intensity.csv", index=False)
        good = [{"ts": f"2024-01-01T00:{m:02d}:00Z", "host": "h1", "gpu": "0", "power_w": "300"} for m in range(0, 60, 5)]
        (d / "gpu_samples").mkdir()
        pd.DataFrame(good).to_csv(d / "gpu_samples" / "good.csv", index=False)
        for target in ("gpu_samples", "jobs", "hardware", "allocations", "sites"):
            spec = INPUTS[target]
            rows = _rows(data.draw, spec.required, 2)
            folder = d / target
            folder.mkdir(exist_ok=True)
            pd.DataFrame(rows, columns=list(spec.required), dtype=str).to_csv(folder / "fuzz.csv", index=False)
        db = root / "lca.duckdb"
        try:
            run_pipeline(d, db, report=False)
        except RunFailed as exc:
            # Only a blocking check may stop it (a cascade or a missing factor), never a crash.
            assert str(exc).startswith("check failed:"), str(exc)
        with duckdb.connect(str(db), read_only=True) as conn:
            marts = [f"marts.{t}" for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()]
            _assert_balanced_and_finite(conn, marts + ["staging.gpu_samples", "staging.jobs", "staging.hardware"])
        shutil.rmtree(root, ignore_errors=True)
