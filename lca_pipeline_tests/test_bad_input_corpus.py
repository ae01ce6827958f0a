"""The bad-input corpus: every malformed, extreme or hostile input gives a quarantine or a clear error.

One generated sample (one day, 10-minute samples) is run clean once. Every row case is one extra
file holding one bad row, appended next to the clean inputs; all row and file cases share one run
(they are independent: each is quarantined on its own), so ~100 cases cost one pipeline run. Each
case asserts the exit code, its quarantine reason, the balance of its file in audit.source_files
(rows_read = staged + quarantined + pending, none negative) and that every untouched row, and every
mart total, equals the clean run. Settings and importer cases stop before any table is written and
assert the one-line error naming the file or key. Cascade cases run the pipeline on their own.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lca_pipeline.cli import main
from lca_pipeline.ingest import stage_input
from lca_pipeline.materialize import ensure_schemas
from lca_pipeline.sample import generate_sample
from lca_pipeline.settings import load_settings

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

WINDOW = "outside the data window"


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    row: dict
    reason: str  # expected substring of audit.quarantine.reason

    @property
    def file(self) -> str:
        return f"{self.input}/x-case-{self.id}.csv"


def _gpu(**kw):
    return {"ts": "2024-03-04T05:00:05Z", "host": "a-gpu01", "gpu": "0", "power_w": "300", **kw}


def _node(**kw):
    return {"ts": "2024-03-04T05:00:05Z", "host": "a-gpu01", "component": "cpu", "power_w": "100", **kw}


def _job(i, **kw):
    return {"job_id": f"case-job-{i}", "model": "helios-1b", "stage": "evaluation", "state": "COMPLETED",
            "start": "2024-03-04T01:00:00Z", "end": "2024-03-04T02:00:00Z", **kw}


def _alloc(**kw):
    return {"job_id": "4812010", "host": "a-gpu02", "gpu": "0", **kw}


def _hw(i, **kw):
    return {"asset_id": f"case-hw-{i}", "kind": "gpu", "model": "H100-SXM5-80GB", "quantity": "1",
            "site": "site-a", "in_service": "2023-06-12", "lifetime_years": "5", "embodied_kgco2e": "164", **kw}


def _grid(**kw):
    return {"zone": "DE", "ts": "2024-03-04T05:30:00Z", "gco2e_per_kwh": "300", "basis": "lifecycle",
            "kind": "average", **kw}


def _contract(**kw):
    return {"site": "site-b", "valid_from": "2024-03-04T00:00:00Z", "valid_to": "2024-03-05T00:00:00Z",
            "mwh": "0.078", "gco2e_per_kwh": "11", "kind": "ppa", **kw}


ROW_CASES = [
    # gpu_samples: CSV text
    Case("gpu-power-text", "gpu_samples", _gpu(power_w="abc"), "not a number"),
    Case("gpu-power-nan", "gpu_samples", _gpu(power_w="NaN"), "not a number"),
    Case("gpu-power-inf", "gpu_samples", _gpu(power_w="inf"), "not a number"),
    Case("gpu-power-negative", "gpu_samples", _gpu(power_w="-5"), "negative power"),
    Case("gpu-power-1e308", "gpu_samples", _gpu(power_w="1e308"), "power above physical bound"),
    Case("gpu-power-missing", "gpu_samples", _gpu(power_w=""), "missing required value"),
    Case("gpu-ts-text", "gpu_samples", _gpu(ts="not-a-date"), "unparseable timestamp"),
    Case("gpu-ts-1970", "gpu_samples", _gpu(ts="1970-01-01T00:00:00Z"), WINDOW),
    Case("gpu-ts-2100", "gpu_samples", _gpu(ts="2100-01-01T00:00:00Z"), WINDOW),
    Case("gpu-ts-2009", "gpu_samples", _gpu(ts="2009-12-31T23:59:59Z"), WINDOW),
    Case("gpu-index-fraction", "gpu_samples", _gpu(gpu="2.5"), "not a GPU index"),
    Case("gpu-index-negative", "gpu_samples", _gpu(gpu="-1"), "not a GPU index"),
    Case("gpu-host-unknown", "gpu_samples", _gpu(host="ghost"), "unknown host"),
    Case("gpu-counter-nan", "gpu_samples", _gpu(energy_mj="nan"), "not a number"),
    Case("gpu-counter-negative", "gpu_samples", _gpu(energy_mj="-1"), "negative energy counter"),
    Case("gpu-util-150", "gpu_samples", _gpu(util_pct="150"), "utilisation outside"),
    Case("gpu-mem-inf", "gpu_samples", _gpu(mem_used_mib="inf"), "not a non-negative number"),
    Case("gpu-duplicate-key", "gpu_samples", _gpu(ts="2024-03-04T00:00:00Z"), "duplicate key"),
    Case("gpu-import-error", "gpu_samples", _gpu(import_error="truncated last line"), "import: truncated"),
    # node_samples
    Case("node-power-1e9", "node_samples", _node(power_w="1e9"), "power above physical bound"),
    Case("node-component", "node_samples", _node(component="gpu"), "unknown component"),
    Case("node-ts-2100", "node_samples", _node(ts="2100-06-01T00:00:00Z"), WINDOW),
    Case("node-host-unknown", "node_samples", _node(host="ghost"), "unknown host"),
    Case("node-power-nan", "node_samples", _node(power_w="nan"), "not a number"),
    # jobs
    Case("job-energy-1e308", "jobs", _job(1, energy_kwh="1e308"), "energy per device-hour above the bound"),
    Case("job-energy-1e9", "jobs", _job(2, energy_kwh="1e9"), "energy per device-hour above the bound"),
    Case("job-energy-negative", "jobs", _job(3, energy_kwh="-1"), "not a non-negative number"),
    Case("job-energy-nan", "jobs", _job(4, energy_kwh="nan"), "not a non-negative number"),
    Case("job-energy-inf", "jobs", _job(5, energy_kwh="inf"), "not a non-negative number"),
    Case("job-energy-text", "jobs", _job(6, energy_kwh="abc"), "not a non-negative number"),
    Case("job-start-1970", "jobs", _job(7, start="1970-01-01T00:00:00Z"), WINDOW),
    Case("job-start-2100", "jobs", _job(8, start="2100-01-01T00:00:00Z", end="2100-01-02T00:00:00Z"), WINDOW),
    Case("job-end-before-start", "jobs", _job(9, end="2024-03-04T00:00:00Z"), "end before start"),
    Case("job-stage-unknown", "jobs", _job(10, stage="warmup"), "unknown stage label"),
    Case("job-state-unknown", "jobs", _job(11, state="EXPLODED"), "unknown job state"),
    Case("job-devices-fraction", "jobs", _job(12, device_count="2.5"), "not a whole number"),
    Case("job-devices-zero", "jobs", _job(13, device_count="0"), "not a whole number"),
    Case("job-power-inf", "jobs", _job(14, avg_power_w="inf"), "not a non-negative number"),
    Case("job-power-5000", "jobs", _job(15, avg_power_w="5000"), "power above physical bound"),
    Case("job-cpu-energy-negative", "jobs", _job(16, cpu_energy_kwh="-1"), "component energy"),
    Case("job-codecarbon-nan", "jobs", _job(17, codecarbon_emissions_kg="nan"), "not a non-negative number"),
    Case("job-site-unknown", "jobs", _job(18, site="nowhere"), "unknown site"),
    Case("job-id-missing", "jobs", _job(19, job_id=""), "missing required value"),
    Case("job-id-duplicate", "jobs", _job(20, job_id="4812001"), "duplicate key"),
    Case("job-start-text", "jobs", _job(21, start="yesterday"), "unparseable timestamp"),
    # allocations
    Case("alloc-gpu-fraction", "allocations", _alloc(gpu="2.5"), "not a GPU index"),
    Case("alloc-gpu-99", "allocations", _alloc(gpu="99"), "beyond the host's gpu_count"),
    Case("alloc-host-unknown", "allocations", _alloc(host="ghost"), "unknown host"),
    Case("alloc-job-unknown", "allocations", _alloc(job_id="no-such-job"), "unknown job"),
    Case("alloc-start-1970", "allocations", _alloc(start="1970-01-01T00:00:00Z"), WINDOW),
    Case("alloc-end-before-start", "allocations",
         _alloc(start="2024-03-04T03:00:00Z", end="2024-03-04T02:00:00Z"), "end before start"),
    Case("alloc-overlap", "allocations",
         _alloc(start="2024-03-04T00:03:00Z", end="2024-03-04T00:06:06Z"),
         "is held by job 4812001 at the same time; the later allocation (job 4812010)"),
    Case("alloc-gpu-missing", "allocations", _alloc(gpu=""), "missing required value"),
    # hardware
    Case("hw-quantity-fraction", "hardware", _hw(1, quantity="2.5"), "not a whole number in [1, 1000000]"),
    Case("hw-quantity-zero", "hardware", _hw(2, quantity="0"), "not a whole number"),
    Case("hw-lifetime-nan", "hardware", _hw(3, lifetime_years="nan"), "not a number of years in (0, 100]"),
    Case("hw-lifetime-inf", "hardware", _hw(4, lifetime_years="inf"), "not a number of years"),
    Case("hw-lifetime-zero", "hardware", _hw(5, lifetime_years="0"), "not a number of years"),
    Case("hw-lifetime-negative", "hardware", _hw(6, lifetime_years="-3"), "not a number of years"),
    Case("hw-in-service-1970", "hardware", _hw(7, in_service="1970-01-01"), WINDOW),
    Case("hw-in-service-2100", "hardware", _hw(8, in_service="2100-01-01"), WINDOW),
    Case("hw-embodied-1e308", "hardware", _hw(9, embodied_kgco2e="1e308"), "not a number in [0, 1000000]"),
    Case("hw-embodied-negative", "hardware", _hw(10, embodied_kgco2e="-1"), "not a number in [0, 1000000]"),
    Case("hw-kind-unknown", "hardware", _hw(11, kind="spaceship"), "unknown kind"),
    Case("hw-site-unknown", "hardware", _hw(12, site="nowhere"), "unknown site"),
    Case("hw-host-unknown", "hardware", _hw(13, host="ghost"), "unknown host"),
    Case("hw-asset-duplicate", "hardware", _hw(14, asset_id="SRV-A-GPU01"), "duplicate key"),
    Case("hw-gpu-fraction", "hardware", _hw(15, gpu="1.5"), "not a GPU index"),
    Case("hw-in-service-text", "hardware", _hw(16, in_service="garbage"), "missing or unparseable date"),
    # grid_intensity
    Case("grid-5000", "grid_intensity", _grid(gco2e_per_kwh="5000"), "intensity outside 0-3000"),
    Case("grid-nan", "grid_intensity", _grid(gco2e_per_kwh="nan"), "not a number"),
    Case("grid-negative", "grid_intensity", _grid(gco2e_per_kwh="-1"), "intensity outside 0-3000"),
    Case("grid-ts-2100", "grid_intensity", _grid(ts="2100-01-01T00:00:00Z"), WINDOW),
    Case("grid-zone-missing", "grid_intensity", _grid(zone=""), "missing required value"),
    # energy_contracts
    Case("contract-exact-duplicate", "energy_contracts", _contract(), "exact duplicate of the contract in row 1"),
    Case("contract-mwh-inf", "energy_contracts", _contract(mwh="inf"), "not a non-negative number"),
    Case("contract-kind-unknown", "energy_contracts", _contract(kind="bogus"), "unknown kind"),
    Case("contract-intensity-9000", "energy_contracts", _contract(gco2e_per_kwh="9000"), "intensity outside"),
    Case("contract-end-before-start", "energy_contracts", _contract(valid_to="2024-03-03T00:00:00Z"),
         "end before start"),
    Case("contract-site-unknown", "energy_contracts", _contract(site="nowhere"), "unknown site"),
    # residual_mix
    Case("residual-year-1970", "residual_mix", {"zone": "DE", "year": "1970", "gco2e_per_kwh": "620"}, WINDOW),
    Case("residual-year-fraction", "residual_mix", {"zone": "DE", "year": "2024.5", "gco2e_per_kwh": "620"},
         "not a year"),
    Case("residual-nan", "residual_mix", {"zone": "FR", "year": "2024", "gco2e_per_kwh": "nan"},
         "intensity outside"),
    # inference_usage
    Case("usage-requests-fraction", "inference_usage", {"model": "helios-1b", "date": "2024-03-05", "requests": "2.5"},
         "not a non-negative integer"),
    Case("usage-requests-negative", "inference_usage", {"model": "helios-1b", "date": "2024-03-05", "requests": "-1"},
         "not a non-negative integer"),
    Case("usage-date-2100", "inference_usage", {"model": "helios-1b", "date": "2100-01-01", "requests": "10"}, WINDOW),
    Case("usage-date-text", "inference_usage", {"model": "helios-1b", "date": "garbage", "requests": "10"},
         "missing or unparseable date"),
    # models
    Case("model-lifetime-inf", "models", {"model": "case-m1", "expected_lifetime_requests": "inf"},
         "not a positive number"),
    Case("model-parameters-nan", "models", {"model": "case-m2", "parameters": "nan"}, "not a positive number"),
    Case("model-parameters-negative", "models", {"model": "case-m3", "parameters": "-1"}, "not a positive number"),
    # pcf_factors
    Case("pcf-gwp-inf", "pcf_factors", {"manufacturer": "Dell", "name": "case-p1", "gwp_total_kgco2e": "inf"},
         "not a number in [0, 1000000]"),
    Case("pcf-gwp-1e9", "pcf_factors", {"manufacturer": "Dell", "name": "case-p2", "gwp_total_kgco2e": "1e9"},
         "not a number in [0, 1000000]"),
    Case("pcf-lifetime-zero", "pcf_factors",
         {"manufacturer": "Dell", "name": "case-p3", "gwp_total_kgco2e": "100", "lifetime_years": "0"},
         "not a number of years"),
    Case("pcf-ratio-2", "pcf_factors",
         {"manufacturer": "Dell", "name": "case-p4", "gwp_total_kgco2e": "100", "gwp_manufacturing_ratio": "2"},
         "ratio outside 0-1"),
    # sites and hosts (new, unreferenced keys: their loss cascades to nothing)
    Case("site-pue-0.5", "sites", {"site": "case-s1", "zone": "DE", "pue": "0.5"}, "PUE must be a number in [1, 5]"),
    Case("site-pue-nan", "sites", {"site": "case-s2", "zone": "DE", "pue": "nan"}, "PUE must be"),
    Case("site-pue-inf", "sites", {"site": "case-s3", "zone": "DE", "pue": "inf"}, "PUE must be"),
    Case("site-wue-inf", "sites", {"site": "case-s4", "zone": "DE", "pue": "1.2", "wue_l_per_kwh": "inf"},
         "WUE must be a number in [0, 100]"),
    Case("site-ewif-negative", "sites", {"site": "case-s5", "zone": "DE", "pue": "1.2", "ewif_l_per_kwh": "-1"},
         "EWIF must be"),
    Case("site-zone-missing", "sites", {"site": "case-s6", "zone": "", "pue": "1.2"}, "missing required value"),
    Case("host-gpus-fraction", "hosts", {"host": "case-h1", "site": "site-a", "role": "compute", "gpu_count": "2.5"},
         "not a whole number in [0, 1024]"),
    Case("host-gpus-negative", "hosts", {"host": "case-h2", "site": "site-a", "role": "compute", "gpu_count": "-1"},
         "not a whole number"),
    Case("host-role-unknown", "hosts", {"host": "case-h3", "site": "site-a", "role": "bogus"}, "unknown role"),
    Case("host-site-unknown", "hosts", {"host": "case-h4", "site": "nowhere", "role": "compute"}, "unknown site"),
]

# Typed Parquet rows: values a CSV cannot carry (a real NaN double, a typed 1970 timestamp).
PARQUET_CASES = [
    Case("pq-power-nan", "gpu_samples", {"power_w": float("nan")}, "not a number"),
    Case("pq-power-inf", "gpu_samples", {"power_w": float("inf")}, "not a number"),
    Case("pq-power-1e308", "gpu_samples", {"power_w": 1e308}, "power above physical bound"),
    Case("pq-ts-1970", "gpu_samples", {"ts": pd.Timestamp("1970-01-01")}, WINDOW),
]


@dataclass(frozen=True)
class FileCase:
    id: str
    path: str  # relative to the data directory
    reason: str
    rows_read: int | None = None


FILE_CASES = [
    FileCase("empty-csv", "node_samples/x-case-empty.csv", "whole file quarantined: file is empty", 0),
    FileCase("blank-first-line", "node_samples/x-case-blank.csv", "no header line"),
    FileCase("truncated-parquet", "gpu_samples/x-case-truncated.parquet", "cannot be read as PARQUET", 0),
    FileCase("garbage-parquet", "node_samples/x-case-garbage.parquet", "cannot be read as PARQUET", 0),
    # Footer and schema intact, data pages broken: found only when the values are read.
    FileCase("corrupt-page-parquet", "gpu_samples/x-case-corrupt-page.parquet", "cannot be read as PARQUET"),
    FileCase("10mb-row-line-192", "jobs/x-case-long.csv", "line 192 is longer than", 299),
    FileCase("unquoted-comma-line-3", "gpu_samples/x-case-comma.csv", "line 3 has 5 fields, the header has 4", 3),
    FileCase("latin-1-csv", "hosts/x-case-latin1.csv", "line 2 is not UTF-8", 1),
    FileCase("symlink-outside", "models/x-case-passwd.csv", "refused: a symlink to a file outside", 0),
    FileCase("glob-name-parquet", "gpu_samples/x-case-part-2024-03-0?.parquet", "duplicate key"),
    FileCase("glob-name-csv", "jobs/x-case-[1]*.csv", "unknown job state", 1),
]


def _write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, dtype=str).to_csv(path, index=False)


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _build_cases(data: Path) -> None:
    for case in ROW_CASES:
        _write_csv(data / case.file, [case.row])
    day = pd.read_parquet(next((data / "gpu_samples").glob("part-*.parquet")))
    base = day.iloc[[0]].copy()
    base["ts"] = pd.Timestamp("2024-03-04 05:00:05")
    for case in PARQUET_CASES:
        row = base.copy()
        for k, v in case.row.items():
            row[k] = v
        table = pa.Table.from_pandas(row, preserve_index=False)
        if "power_w" in case.row:  # a real IEEE NaN, not the null pandas would write for it
            i = table.schema.get_field_index("power_w")
            table = table.set_column(i, "power_w", pa.array([case.row["power_w"]], pa.float64(), from_pandas=False))
        pq.write_table(table, data / "gpu_samples" / f"x-case-{case.id}.parquet")
    (data / "node_samples" / "x-case-empty.csv").write_text("")
    (data / "node_samples" / "x-case-blank.csv").write_text("\nts,host,component,power_w\n")
    clean_parquet = next((data / "gpu_samples").glob("part-*.parquet")).read_bytes()
    (data / "gpu_samples" / "x-case-truncated.parquet").write_bytes(clean_parquet[: len(clean_parquet) // 2])
    (data / "node_samples" / "x-case-garbage.parquet").write_bytes(os.urandom(4096))
    pages = bytearray(clean_parquet)
    for i in range(2000, 20000, 7):
        pages[i] ^= 0x5A
    (data / "gpu_samples" / "x-case-corrupt-page.parquet").write_bytes(bytes(pages))
    long_rows = [",".join([f"case-long-{i}", "helios-1b", "evaluation", "COMPLETED", "2024-03-04T01:00:00Z",
                           "2024-03-04T02:00:00Z"]) for i in range(299)]
    long_rows[190] = long_rows[190].replace("helios-1b", "x" * (10 << 20))  # line 192 (header is line 1)
    (data / "jobs").mkdir(exist_ok=True)
    (data / "jobs" / "x-case-long.csv").write_text("job_id,model,stage,state,start,end\n" + "\n".join(long_rows) + "\n")
    (data / "gpu_samples" / "x-case-comma.csv").write_text(
        "ts,host,gpu,power_w\n2024-03-04T05:00:05Z,a-gpu01,1,300\n2024-03-04T05:00:06Z,a-gpu01,1,1,5\n"
        "2024-03-04T05:00:07Z,a-gpu01,1,300\n")
    (data / "hosts").mkdir(exist_ok=True)
    (data / "hosts" / "x-case-latin1.csv").write_bytes(b"host,site,role\ncaf\xe9,site-a,compute\n")
    (data / "models").mkdir(exist_ok=True)
    os.symlink("/etc/passwd", data / "models" / "x-case-passwd.csv")
    shutil.copy(next((data / "gpu_samples").glob("part-*.parquet")), data / "gpu_samples" / "x-case-part-2024-03-0?.parquet")
    _write_csv(data / "jobs" / "x-case-[1]*.csv", [_job(99, state="EXPLODED")])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    clean = root / "clean"
    generate_sample(clean, days=1, interval_s=600)
    bad = root / "bad"
    shutil.copytree(clean, bad)
    _build_cases(bad)
    clean_code, _, clean_err = _run(["run", "--data", str(clean), "--db", str(root / "clean.duckdb")])
    assert clean_code == 0, clean_err
    code, out, err = _run(["run", "--data", str(bad), "--db", str(root / "bad.duckdb")])
    return {"root": root, "clean": clean, "bad": bad, "code": code, "out": out, "err": err,
            "clean_db": root / "clean.duckdb", "db": root / "bad.duckdb"}


def _q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _balance(db: Path, path: Path) -> tuple[int, int, int, int]:
    rows = _q(db, "SELECT rows_read, rows_staged, rows_quarantined, rows_pending FROM audit.source_files "
                  "WHERE path = ?", [str(path)])
    assert len(rows) == 1, f"{path} not accounted in audit.source_files"
    read, staged, quarantined, pending = rows[0]
    assert min(read, staged, quarantined, pending) >= 0
    assert read == staged + quarantined + pending
    return rows[0]


def test_corpus_run_exits_zero_and_untouched_rows_equal_the_clean_run(corpus):
    """Every case file is quarantined; the clean files' staged rows and every mart total are unchanged."""
    assert corpus["code"] == 0, corpus["err"]
    assert "root:" not in corpus["out"] + corpus["err"]  # the /etc/passwd symlink is never read
    for table in ("gpu_samples", "node_samples", "jobs", "allocations", "hardware", "sites", "hosts",
                  "grid_intensity", "energy_contracts", "residual_mix", "inference_usage", "models"):
        # Rows compared whole, with the data directory's path taken out of file names and ids.
        clean = sorted(repr(r).replace(str(corpus["clean"]), "") for r in
                       _q(corpus["clean_db"], f"SELECT * FROM staging.{table}"))
        bad = sorted(repr(r).replace(str(corpus["bad"]), "") for r in _q(corpus["db"], f"SELECT * FROM staging.{table}"))
        assert bad == clean, table
    totals = ("SELECT sum(energy_it_kwh), sum(operational_co2e_location_kg), sum(operational_co2e_market_kg), "
              "sum(water_onsite_l), "
              "count(*) FROM marts.stage_impacts")
    assert _q(corpus["db"], totals) == _q(corpus["clean_db"], totals)
    embodied = "SELECT sum(embodied_co2e_kg), count(*) FROM marts.job_impacts"
    assert _q(corpus["db"], embodied) == _q(corpus["clean_db"], embodied)
    assert _q(corpus["db"], "SELECT partition_range FROM audit.runs") == \
        _q(corpus["clean_db"], "SELECT partition_range FROM audit.runs")


@pytest.mark.parametrize("case", ROW_CASES + PARQUET_CASES, ids=lambda c: c.id)
def test_row_case_is_quarantined_with_reason(corpus, case):
    assert corpus["code"] == 0
    suffix = ".parquet" if case in PARQUET_CASES else ".csv"
    path = corpus["bad"] / case.input / f"x-case-{case.id}{suffix}"
    reasons = _q(corpus["db"], "SELECT reason FROM audit.quarantine WHERE input = ? AND source_file = ?",
                 [case.input, str(path)])
    assert len(reasons) == 1 and case.reason in reasons[0][0], reasons
    assert _balance(corpus["db"], path) == (1, 0, 1, 0)


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_file_case_is_quarantined_and_the_run_goes_on(corpus, case):
    assert corpus["code"] == 0
    path = corpus["bad"] / case.path
    reasons = [r for (r,) in _q(corpus["db"], "SELECT reason FROM audit.quarantine WHERE source_file = ?",
                                [str(path)])]
    if case.id == "glob-name-parquet":
        # Read literally: exactly the day file it copies, whose every row is now a duplicate
        # (or has the clean file's own defect), never the other files its name would match.
        clean_staged, clean_quarantined = _q(
            corpus["clean_db"], "SELECT rows_staged, rows_quarantined FROM audit.source_files "
                                "WHERE input = 'gpu_samples'")[0]
        assert sum("duplicate key" in r for r in reasons) == clean_staged
        assert len(reasons) == clean_staged + clean_quarantined
        assert _balance(corpus["db"], path) == (len(reasons), 0, len(reasons), 0)
        return
    assert reasons and all(case.reason in r for r in reasons), reasons[:3]
    read, staged, quarantined, pending = _balance(corpus["db"], path)
    assert staged == 0
    if case.rows_read is not None:
        assert read == case.rows_read
    for reason in reasons:
        assert "root:x" not in reason and len(reason) < 600


def test_whole_file_quarantines_are_printed(corpus):
    for case in FILE_CASES:
        if "whole file" in case.reason or case.reason.startswith(("cannot", "line", "no header", "refused")):
            assert str(corpus["bad"] / case.path) in corpus["out"], case.id


SETTINGS_CASES = [
    ("bool-is-not-seconds", "[telemetry]\nmax_gap_s = true\n", "max_gap_s"),
    ("fraction-is-not-hours", "[grid]\ninterpolate_max_h = 2.5\n", "interpolate_max_h"),
    ("string-is-not-watts", '[telemetry]\nmax_gpu_power_w = "3000"\n', "max_gpu_power_w"),
    ("nan-utilisation", "[embodied]\nexpected_utilisation = nan\n", "expected_utilisation"),
    ("inf-gap", "[telemetry]\nmax_gap_s = inf\n", "max_gap_s"),
    ("negative-slice", "[telemetry]\nslice_samples = -1\n", "slice_samples"),
    ("unknown-key", "[telemetry]\nmax_gap = 300\n", "known: ['max_gap_s'"),
    ("unknown-section", "[telemetri]\nmax_gap_s = 300\n", "unknown section [telemetri]"),
    ("importer-option-typo", '[sacct]\ntimezon = "Europe/Oslo"\n', "unknown sacct option 'timezon'"),
    ("importer-generic-typo", '[importers]\ntimezon = "Europe/Oslo"\n', "unknown importer option 'timezon'"),
    ("importer-wrong-kind", '[importers.electricitymaps]\ntimezone = "UTC"\n', "valid: zone"),
    ("window-reversed", '[data]\nwindow_start = 2024-01-01\nwindow_end = 2020-01-01\n', "window_end"),
    ("window-text", '[data]\nwindow_start = "yesterday"\n', "window_start"),
    ("accept-text", '[data]\naccept_cascades = "yes"\n', "accept_cascades"),
    ("choice-number", "[grid]\nbasis = 1\n", "basis"),
    ("stages-number", "[lifecycle]\nupfront_stages = [1]\n", "upfront_stages"),
    ("map-target", '[stages]\nmap = { pretrain = "pre" }\n', "pretrain"),
    ("not-toml", "[telemetry\n", "not valid TOML"),
]


@pytest.mark.parametrize("name,toml,key", SETTINGS_CASES, ids=[c[0] for c in SETTINGS_CASES])
def test_bad_setting_is_a_one_line_error_naming_file_and_key(tmp_path, name, toml, key):
    data = tmp_path / "data"
    data.mkdir()
    (data / "lca.toml").write_text(toml)
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "lca.toml" in err and key in err, err
    assert not (tmp_path / "x.duckdb").exists()  # stopped before any table was touched


@pytest.mark.parametrize("content", [b"\x00\x01\xff\xfe binary", "[grid]\nbasis = \"caf\xe9\"\n".encode("latin-1")],
                         ids=["binary", "latin-1"])
def test_binary_or_non_utf8_settings_name_the_file(tmp_path, content):
    data = tmp_path / "data"
    data.mkdir()
    (data / "lca.toml").write_bytes(content)
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert str(data / "lca.toml") in err and "not UTF-8" in err


IMPORTER_OPTION_CASES = [
    ("nvidia-smi", "timezon=Europe/Oslo", "timezon"),
    ("nvidia-smi-q", "hots=gpu01", "hots"),
    ("dcgm", "tz=UTC", "tz"),
    ("codecarbon", "sight=site-a", "sight"),
    ("sacct", "sacct.nw=2025-01-01T00:00:00", "'nw'"),
    ("electricitymaps", "electricitymaps.timezone=UTC", "valid: zone"),
    ("boavizta-pcf", "boavizta-pcf.host=x", "valid: none"),
]


@pytest.mark.parametrize("kind,option,needle", IMPORTER_OPTION_CASES, ids=[c[0] for c in IMPORTER_OPTION_CASES])
def test_unknown_importer_option_is_an_error_listing_valid_ones(tmp_path, kind, option, needle):
    export = tmp_path / "export.csv"
    export.write_text("anything\n")
    code, out, err = _run(["import", kind, str(export), "--data", str(tmp_path / "data"), "--option", option])
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert needle in err and "valid" in err, err
    assert not (tmp_path / "data").exists()


def test_a_2019_job_is_accepted_by_the_default_window(tmp_path):
    data = tmp_path / "data"
    _write_csv(data / "jobs.csv", [_job(1, start="2019-06-01T00:00:00Z", end="2019-06-02T00:00:00Z")])
    conn = duckdb.connect()
    ensure_schemas(conn)
    for name in ("sites", "jobs"):
        result = stage_input(conn, name, [data], load_settings(None).sql_params(), "t")
    assert (result.rows_staged, result.rows_quarantined) == (1, 0)


def _cascade_data(tmp_path: Path, clean: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    return data


def test_site_quarantine_cascade_fails_the_run_naming_site_and_rows(corpus, tmp_path):
    data = _cascade_data(tmp_path, corpus["clean"])
    sites = pd.read_csv(data / "sites.csv", dtype=str)
    sites.loc[sites.site == "site-b", "pue"] = "0.5"
    sites.to_csv(data / "sites.csv", index=False)
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1
    assert "no_cascade" in err and "site-b" in err and len(err.strip().splitlines()) == 1
    assert "cascade: site 'site-b' is quarantined in sites and took 4 hosts row(s) with it" in out
    assert not (tmp_path / "x.duckdb").exists()  # a failed blocking check publishes nothing
    from lca_pipeline.resources import work_path_for

    db = work_path_for(tmp_path / "x.duckdb")  # what the failed run built stays in the work area
    assert _q(db, "SELECT count(*) FROM audit.quarantine WHERE input = 'hosts' AND reason LIKE 'cascade: %'") == [(4,)]
    assert _q(db, "SELECT count(*) FROM audit.source_files WHERE rows_read <> rows_staged + rows_quarantined + "
                  "rows_pending OR least(rows_read, rows_staged, rows_quarantined, rows_pending) < 0") == [(0,)]


def test_accepted_cascade_runs_and_counts_every_child_row(corpus, tmp_path):
    data = _cascade_data(tmp_path, corpus["clean"])
    sites = pd.read_csv(data / "sites.csv", dtype=str)
    sites.loc[sites.site == "site-b", "pue"] = "0.5"
    sites.to_csv(data / "sites.csv", index=False)
    (data / "lca.toml").write_text((data / "lca.toml").read_text() + "\n[data]\naccept_cascades = true\n")
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 0, err
    db = tmp_path / "x.duckdb"
    per_input = dict(_q(db, "SELECT input, count(*) FROM audit.quarantine WHERE reason LIKE 'cascade: %' GROUP BY 1"))
    clean_b = _q(corpus["clean_db"], "SELECT sum(rows_staged) FROM staging.gpu_samples WHERE host LIKE 'b-%'")[0][0]
    assert per_input["hosts"] == 4 and per_input["gpu_samples"] == clean_b
    printed = sum(int(line.split(" took ")[1].split()[0]) for line in out.splitlines()
                  if "cascade: host" in line and "gpu_samples" in line)
    assert printed == clean_b
    assert _q(db, "SELECT count(*) FROM staging.hosts WHERE site = 'site-b'") == [(0,)]


def test_job_quarantine_cascades_to_its_allocations(corpus, tmp_path):
    data = _cascade_data(tmp_path, corpus["clean"])
    jobs = pd.read_csv(data / "jobs.csv", dtype=str)
    jobs.loc[jobs.job_id == "4812023", "state"] = "EXPLODED"
    jobs.to_csv(data / "jobs.csv", index=False)
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1 and "staging/allocations:no_cascade" in err and "4812023" in err
    n = _q(corpus["clean_db"], "SELECT count(*) FROM staging.allocations WHERE job_id = '4812023'")[0][0]
    assert f"cascade: job_id '4812023' is quarantined in jobs and took {n} allocations row(s) with it" in out


def test_finite_check_fails_on_a_nan_or_infinite_mart_value(corpus, tmp_path):
    from lca_pipeline.assets.checks import MART_TABLES, finite_check
    from lca_pipeline.resources import Warehouse

    warehouse = Warehouse(path=str(tmp_path / "copy.duckdb"))
    db = warehouse.work  # checks read the work database a refresh builds
    db.parent.mkdir(parents=True)
    shutil.copy(corpus["clean_db"], db)
    for table in MART_TABLES:  # the clean run passes for every mart
        assert finite_check(f"marts.{table}")(warehouse=warehouse).passed, table
    warehouse.release()
    with duckdb.connect(str(db)) as conn:
        conn.execute("UPDATE marts.job_impacts SET energy_it_kwh = 'NaN'::DOUBLE, "
                     "operational_co2e_location_kg = 'Infinity'::DOUBLE WHERE rowid IN (0, 1)")
    result = finite_check("marts.job_impacts")(warehouse=warehouse)
    warehouse.release()
    assert not result.passed
    assert result.description == ("marts.job_impacts: non-finite values in energy_it_kwh (2 rows), "
                                  "operational_co2e_location_kg (2 rows)")


def _two_hours_of_gpu(data: Path, zone: str, valid_from: str | None = None) -> None:
    from lca_pipeline_tests.builders import constant_power, write

    site = {"site": "s1", "zone": zone, "pue": 1.5}
    if valid_from:
        site["valid_from"] = valid_from
    write(data, "sites", [site])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 1}])
    write(data, "gpu_samples", constant_power("h1", 0, 300.0, 0, 120, 60))


def test_grid_complete_failure_names_zone_and_hours(tmp_path):
    data = tmp_path / "data"
    _two_hours_of_gpu(data, "NOWHERE")
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "grid_complete" in err and "zone_years = NOWHERE 2024" in err
    assert "zone_hours_missing = 2" in err
    assert "first_missing_hour = 2024-01-01T00:00:00" in err and "last_missing_hour = 2024-01-01T01:00:00" in err


def test_site_factors_complete_failure_names_site_and_hours(tmp_path):
    from lca_pipeline_tests.builders import hourly_grid

    data = tmp_path / "data"
    _two_hours_of_gpu(data, "Z1", valid_from="2024-01-01T01:00:00Z")  # no PUE for the first hour
    hourly_grid(data, {0: 100.0, 1: 100.0})
    code, out, err = _run(["run", "--data", str(data), "--db", str(tmp_path / "x.duckdb")])
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "site_factors_complete" in err and "sites = s1" in err
    assert "first_missing_hour = 2024-01-01T00:00:00" in err


def test_declared_gpu_sharing_keeps_overlapping_allocations(tmp_path):
    from lca_pipeline_tests.builders import write

    data = tmp_path / "data"
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.5}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 1}])
    write(data, "jobs", [
        {"job_id": "A", "model": "m", "stage": "training", "state": "COMPLETED",
         "start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:30:00Z"},
        {"job_id": "B", "model": "m", "stage": "training", "state": "COMPLETED",
         "start": "2024-01-01T00:15:00Z", "end": "2024-01-01T01:00:00Z"},
    ])
    write(data, "allocations", [{"job_id": "A", "host": "h1", "gpu": 0}, {"job_id": "B", "host": "h1", "gpu": 0}])
    outcomes = {}
    for sharing in ("quarantine", "split"):
        (data / "lca.toml").write_text(f'[allocation]\ngpu_sharing = "{sharing}"\n')
        conn = duckdb.connect()
        ensure_schemas(conn)
        params = load_settings(data / "lca.toml").sql_params()
        for name in ("sites", "hosts", "jobs", "allocations"):
            result = stage_input(conn, name, [data], params, "t")
        outcomes[sharing] = (result.rows_staged, result.rows_quarantined, sorted(result.reasons))
    assert outcomes["split"] == (2, 0, [])
    assert outcomes["quarantine"] == (1, 1, [
        "overlapping allocation: GPU h1:0 is held by job A at the same time; the later allocation (job B) "
        "is quarantined"])
