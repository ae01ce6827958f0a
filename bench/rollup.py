"""Per-minute roll-up (issue 12, item 4): the same day from 1 Hz samples and from its roll-up, and the
end-to-end time of a rolled-up fleet day.

    python bench/rollup.py compare [--gpus 16]      # 1 Hz samples vs their roll-up: GPU energy difference
    python bench/rollup.py fleet [--gpus 10000]     # a synthetic rolled-up day: 1,440 rows per GPU, timed

`compare` generates one day of 1 Hz samples with bench/gen.py, rolls them up per GPU and minute with
one DuckDB query equivalent to `lca collect --write minutes` (first/last sample's counter and power,
min/max/mean power; the collector's own rows are checked against raw samples in
lca_pipeline_tests/test_collector.py), runs the pipeline on each and compares the GPU energy. It also
re-runs the sample path's statement as it was before the roll-up branch (from git, `--base`) on the
samples database and checks its rows equal the table the new statement built.

`fleet` writes the roll-up of a `--gpus` fleet day directly (numpy, vectorised: busy/idle power per
minute from bench/gen.py's job timelines, a counter accumulating it) and times `run_pipeline` on it.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # noqa: E402
from common import PROGRESS as PROGRESS_RE, REPO, loadavg, machine  # noqa: E402

ROLLUP_SQL = """
SELECT
    date_trunc('minute', ts) AS ts,
    CAST(host AS VARCHAR) AS host,
    gpu,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    arg_min(energy_mj, ts) AS first_energy_mj,
    arg_max(energy_mj, ts) AS last_energy_mj,
    arg_min(power_w, ts) AS first_power_w,
    arg_max(power_w, ts) AS last_power_w,
    date_diff('microsecond', min(ts), max(ts)) / 1e6 AS covered_s,
    CAST(count(*) AS INTEGER) AS samples,
    min(power_w) AS min_power_w,
    max(power_w) AS max_power_w,
    avg(power_w) AS mean_power_w,
    avg(util_pct) AS mean_util_pct,
    CAST(0 AS INTEGER) AS counter_resets
FROM read_parquet($files)
GROUP BY ALL
ORDER BY host, gpu, ts
"""


PROGRESS: dict[str, float] = {}


class _Progress(logging.Handler):
    """Per-asset seconds from the pipeline's progress lines (see bench/common.py)."""

    def emit(self, record: logging.LogRecord) -> None:
        m = PROGRESS_RE.match(record.getMessage())
        if m:
            PROGRESS[m.group(1)] = PROGRESS.get(m.group(1), 0.0) + float(m.group(3))


def _run(data: Path, db: Path) -> float:
    from lca_pipeline.materialize import progress_log
    from lca_pipeline.runner import run_pipeline

    if db.exists():
        db.unlink()
    PROGRESS.clear()
    handler = _Progress()
    progress_log.addHandler(handler)
    progress_log.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        run_pipeline(data, db, report=False)
    finally:
        progress_log.removeHandler(handler)
    return time.perf_counter() - started


def _tables_only(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.glob("*.csv"):
        shutil.copy(f, dst / f.name)
    if (src / "lca.toml").exists():
        shutil.copy(src / "lca.toml", dst / "lca.toml")


def compare(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    spec = gen.FleetSpec(gpus=args.gpus, days=1, interval_s=1, gpus_per_file=args.gpus)
    samples_dir = out / "samples"
    info = gen.generate(samples_dir, spec)
    minutes_dir = out / "minutes"
    _tables_only(samples_dir, minutes_dir)
    files = sorted(str(p) for p in (samples_dir / "gpu_samples").rglob("*.parquet"))
    (minutes_dir / "gpu_energy_minutes").mkdir()
    started = time.perf_counter()
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rolled = conn.execute(ROLLUP_SQL, {"files": files}).to_arrow_table()
    pq.write_table(rolled, minutes_dir / "gpu_energy_minutes" / "rollup.parquet", compression="zstd")
    rollup_s = time.perf_counter() - started
    db_samples, db_minutes = out / "samples.duckdb", out / "minutes.duckdb"
    t_samples = _run(samples_dir, db_samples)
    t_minutes = _run(minutes_dir, db_minutes)
    q_total = "SELECT sum(energy_gpu_kwh) FROM intermediate.gpu_hourly"
    q_hours = "SELECT host, gpu, hour_start, energy_gpu_kwh, covered_s FROM intermediate.gpu_hourly ORDER BY ALL"
    q_jobs = "SELECT sum(energy_gpu_kwh), sum(co2e_location_kg) FROM marts.job_impacts"
    with duckdb.connect(str(db_samples), read_only=True) as a, duckdb.connect(str(db_minutes), read_only=True) as b:
        total_a, total_b = a.execute(q_total).fetchone()[0], b.execute(q_total).fetchone()[0]
        hours_a, hours_b = a.execute(q_hours).fetchall(), b.execute(q_hours).fetchall()
        jobs_a, jobs_b = a.execute(q_jobs).fetchone(), b.execute(q_jobs).fetchone()
        same_keys = [r[:3] for r in hours_a] == [r[:3] for r in hours_b]
        max_hour_diff = max(abs(x[3] - y[3]) for x, y in zip(hours_a, hours_b)) if same_keys else None
        max_cov_diff = max(abs(x[4] - y[4]) for x, y in zip(hours_a, hours_b)) if same_keys else None
        sample_path = _sample_path_unchanged(a, args.base) if args.base else None
    return {
        "study": "rollup_compare",
        "gpus": args.gpus,
        "samples": info["samples"],
        "minute_rows": rolled.num_rows,
        "rollup_query_s": round(rollup_s, 2),
        "pipeline_samples_s": round(t_samples, 2),
        "pipeline_minutes_s": round(t_minutes, 2),
        "gpu_kwh_samples": total_a,
        "gpu_kwh_minutes": total_b,
        "gpu_kwh_diff": total_b - total_a,
        "gpu_kwh_rel_diff": (total_b - total_a) / total_a,
        "gpu_hours_same_keys": same_keys,
        "gpu_hour_max_abs_diff_kwh": max_hour_diff,
        "gpu_hour_max_abs_diff_covered_s": max_cov_diff,
        "job_gpu_kwh_diff": jobs_b[0] - jobs_a[0],
        "job_co2e_kg_rel_diff": (jobs_b[1] - jobs_a[1]) / jobs_a[1],
        "sample_path_rows_equal_base": sample_path,
        "load": loadavg(),
    }


def _sample_path_unchanged(conn: duckdb.DuckDBPyConnection, base: str) -> bool:
    """Run the statement as of `base` (before the roll-up branch) and compare with the table built."""
    old = subprocess.run(["git", "show", f"{base}:sql/intermediate/int_telemetry_energy_hourly.sql"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    day = conn.execute("SELECT min(partition_day), max(partition_day) FROM intermediate.telemetry_energy_hourly").fetchone()
    from datetime import datetime, timedelta

    start = datetime.combine(day[0], datetime.min.time())
    end = datetime.combine(day[1], datetime.min.time()) + timedelta(days=1)
    params = {"window_start": start, "window_end": end, "max_gap_s": 300.0, "max_gpu_power_w": 3000.0}
    old_rows = conn.execute(old.strip().rstrip(";"), params).fetchall()
    new_rows = conn.execute("SELECT host, component, gpu, hour_start, partition_day, energy_kwh, covered_s, intervals, "
                            "counter_intervals, counter_resets, util_pct_x_s FROM intermediate.telemetry_energy_hourly "
                            "ORDER BY host, component, gpu, hour_start, partition_day").fetchall()
    return old_rows == new_rows


def write_fleet_rollup(out: Path, gpus: int, seed: int = 7, chunk: int = 1000) -> dict:
    """Tables from bench/gen.py plus the fleet day's roll-up, one file per `chunk` GPUs."""
    spec = gen.FleetSpec(gpus=gpus, days=1, interval_s=60, seed=seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    timelines = gen._timelines(spec, rng)
    gen._write_tables(out, spec, timelines, rng)
    folder = out / "gpu_energy_minutes"
    folder.mkdir()
    t0_us = int(gen._t0(spec).timestamp()) * 1_000_000
    minutes = 1440
    truth_kwh = 0.0
    rows = 0
    for first in range(0, gpus, chunk):
        n = min(chunk, gpus - first)
        edges = np.zeros((minutes + 1, n // gen.GROUP), dtype=np.int32)
        for j in range(n // gen.GROUP):
            starts, ends = timelines[first // gen.GROUP + j]
            np.add.at(edges[:, j], np.clip(-(-starts // 60), 0, minutes), 1)
            np.add.at(edges[:, j], np.clip(-(-ends // 60), 0, minutes), -1)
        busy = np.repeat(np.cumsum(edges[:-1], axis=0) > 0, gen.GROUP, axis=1)  # [minute, gpu]
        noise = rng.standard_normal((minutes, n)).astype(np.float32)
        mean_p = np.where(busy, rng.uniform(520, 680, n) + 20 * noise, 75 + 2 * noise).clip(0, 1000).round(3)
        # 1 Hz inside each minute: first sample at :00, last at :59; 59 s inside, 1 s to the next minute
        inside_mj = np.round(mean_p * 59 * 1000.0)
        bridge_mj = np.round(mean_p * 1 * 1000.0)
        start_mj = rng.uniform(1e9, 5e11, n).round(0)
        step = inside_mj + bridge_mj
        first_e = start_mj + np.vstack([np.zeros((1, n)), np.cumsum(step, axis=0)[:-1]])
        last_e = first_e + inside_mj
        truth_kwh += float((last_e[-1] - first_e[0]).sum()) / 3.6e9
        minute_us = t0_us + np.arange(minutes, dtype=np.int64) * 60_000_000
        ts = np.repeat(minute_us, n)
        gpu_ids = np.arange(first, first + n)
        hosts = gpu_ids // gen.GPUS_PER_HOST
        names = pa.array([gen.host_name(h) for h in range(hosts[0], hosts[-1] + 1)], pa.string())
        p = mean_p.ravel()
        table = pa.table({
            "ts": pa.array(ts, pa.timestamp("us")),
            "host": pa.DictionaryArray.from_arrays(pa.array(np.tile((hosts - hosts[0]).astype(np.int32), minutes)), names),
            "gpu": pa.array(np.tile((gpu_ids % gen.GPUS_PER_HOST).astype(np.int32), minutes)),
            "first_ts": pa.array(ts, pa.timestamp("us")),
            "last_ts": pa.array(ts + 59_000_000, pa.timestamp("us")),
            "first_energy_mj": pa.array(first_e.ravel()),
            "last_energy_mj": pa.array(last_e.ravel()),
            "first_power_w": pa.array(p),
            "last_power_w": pa.array(p),
            "covered_s": pa.array(np.full(p.size, 59.0)),
            "samples": pa.array(np.full(p.size, 60, dtype=np.int32)),
            "min_power_w": pa.array((p * 0.9).round(3)),
            "max_power_w": pa.array((p * 1.1).clip(None, 1000).round(3)),
            "mean_power_w": pa.array(p),
            "mean_util_pct": pa.array(np.where(busy, 90.0, 0.0).ravel()),
            "counter_resets": pa.array(np.zeros(p.size, dtype=np.int32)),
        })
        pq.write_table(table, folder / f"gpus-{first:05d}.parquet", compression="zstd", compression_level=1,
                       row_group_size=1 << 20, use_dictionary=["host"])
        rows += table.num_rows
        del table, first_e, last_e, busy, noise, mean_p
    return {"rows": rows, "truth_gpu_kwh": truth_kwh,
            "bytes": sum(f.stat().st_size for f in folder.glob("*.parquet"))}


def fleet(args: argparse.Namespace) -> dict:
    out = Path(args.out) / f"fleet-{args.gpus}"
    started = time.perf_counter()
    info = write_fleet_rollup(out, args.gpus)
    gen_s = time.perf_counter() - started
    load_before = loadavg()
    db = Path(args.out) / f"fleet-{args.gpus}.duckdb"
    seconds = _run(out, db)
    with duckdb.connect(str(db), read_only=True) as conn:
        total = conn.execute("SELECT sum(energy_gpu_kwh) FROM intermediate.gpu_hourly").fetchone()[0]
        staged = conn.execute("SELECT sum(rows_staged) FROM staging.gpu_energy_minutes").fetchone()[0]
    return {
        "study": "rollup_fleet",
        "gpus": args.gpus,
        "minute_rows": info["rows"],
        "staged_rows": staged,
        "parquet_mb": round(info["bytes"] / 1e6, 1),
        "generate_s": round(gen_s, 1),
        "pipeline_s": round(seconds, 1),
        "gpu_kwh": total,
        "truth_gpu_kwh": info["truth_gpu_kwh"],
        "gpu_kwh_rel_diff": (total - info["truth_gpu_kwh"]) / info["truth_gpu_kwh"],
        "load_before": load_before,
        "load_after": loadavg(),
        "cpus": os.cpu_count(),
        "assets_s": {k: round(v, 2) for k, v in sorted(PROGRESS.items(), key=lambda kv: -kv[1])[:6]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=("compare", "fleet"))
    parser.add_argument("--gpus", type=int)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "rollup"))
    parser.add_argument("--base", default=None, help="git revision of the statement before the roll-up branch")
    args = parser.parse_args()
    if args.gpus is None:
        args.gpus = 16 if args.study == "compare" else 10_000
    os.environ.setdefault("DAGSTER_HOME", str(Path(args.out) / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    load_start = loadavg()
    result = compare(args) if args.study == "compare" else fleet(args)
    # as bench/run.py's studies: the machine and the load average at the study's start and end
    result.update({"load_start": load_start, "load_end": loadavg(), "machine": machine()})
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
