# On the GPU machine, from the repo root:  pip install -q nvidia-ml-py pyarrow && python scripts/collector_device_check.py
# (optional: --duration 60 --interval 1s --load 30; --load needs torch and adds a matmul load tagged SLURM_JOB_ID=4242)
"""Device check for `lca collect` (lca_pipeline/collector.py) on a real NVIDIA GPU host.

Runs the collector for --duration seconds at --interval, measures the CPU time it used, reads
the Parquet back and prints ONE JSON line:

  samples, rows_written, ticks, gpus, gpu_names, driver_version, files, errors, lost_gpus,
  energy_counter_j (per GPU, from nvmlDeviceGetTotalEnergyConsumption),
  energy_trapezoid_j (per GPU, trapezoid of power_w over ts),
  counter_vs_trapezoid_pct, mean_power_w, interval_s_mean, interval_jitter_ms_max,
  cpu_seconds, cpu_pct (of one core, whole process over the run), wall_s, job_ids_seen, ok.

If $OUT is set, the JSON goes to $OUT/collector_device_check.json and the Parquet files to
$OUT/gpu_samples/.  Needs only nvidia-ml-py and pyarrow: the collector module is loaded from
its file, so the package's other dependencies (dagster, duckdb, pandas) are not imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
EPOCH = datetime(1970, 1, 1)


def load_collector():
    path = REPO_ROOT / "lca_pipeline" / "collector.py"
    spec = importlib.util.spec_from_file_location("lca_collector_devcheck", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


LOAD_CODE = r"""
import sys, time
import torch
secs = float(sys.argv[1]); delay = float(sys.argv[2])
time.sleep(delay)
devs = [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
mats = [torch.randn(8192, 8192, device=d, dtype=torch.bfloat16) for d in devs]
end = time.time() + secs
while time.time() < end:
    for m in mats:
        m @ m
    for d in devs:
        torch.cuda.synchronize(d)
"""


def start_load(seconds: float, delay: float) -> tuple[subprocess.Popen | None, str]:
    if seconds <= 0:
        return None, "off"
    if importlib.util.find_spec("torch") is None:
        return None, "torch not installed"
    env = dict(os.environ, SLURM_JOB_ID="4242")
    proc = subprocess.Popen([sys.executable, "-c", LOAD_CODE, str(seconds), str(delay)], env=env)
    return proc, f"torch matmul on all GPUs for {seconds:g}s after {delay:g}s (pid {proc.pid}, SLURM_JOB_ID=4242)"


def trapezoid_j(ts_s: list[float], power_w: list[float]) -> float:
    return sum((ts_s[i + 1] - ts_s[i]) * (power_w[i + 1] + power_w[i]) / 2 for i in range(len(ts_s) - 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds to sample (default 60)")
    ap.add_argument("--interval", default="1s", help="sampling interval (default 1s)")
    ap.add_argument("--load", type=float, default=0.0, help="seconds of torch matmul load (needs torch; default off)")
    ap.add_argument("--out", default=os.environ.get("OUT"), help="output folder (default $OUT, else a temp dir)")
    args = ap.parse_args(argv)

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    col = load_collector()
    import pyarrow.parquet as pq

    try:  # import before measuring, so cpu_pct reflects sampling rather than one-off imports
        import pynvml  # noqa: F401
    except ImportError:
        pass
    # pyarrow's first Parquet write costs ~0.3 s CPU once per process (lazy library set-up);
    # pay it before measuring so cpu_pct is the collector's steady-state cost
    import pyarrow as pa

    with tempfile.TemporaryDirectory() as tmp:
        warm = pa.table({"ts": pa.array([0], pa.int64()).cast(pa.timestamp("us")), "x": pa.array([1.0])})
        pq.write_table(warm, Path(tmp) / "warm.parquet", compression="zstd" if pa.Codec.is_available("zstd") else "snappy")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="collector-check-"))
    out.mkdir(parents=True, exist_ok=True)
    interval = col.parse_interval(args.interval)

    load_proc, load_desc = start_load(args.load, delay=min(10.0, args.duration / 4))
    result: dict = {"check": "collector_device_check", "duration_s": args.duration, "interval_s": interval, "load": load_desc}
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    p0, w0 = time.process_time(), time.monotonic()
    try:
        stats = col.run_collector(out, interval_s=interval, duration_s=args.duration, progress_every_s=30)
    except col.CollectorError as exc:
        result.update(ok=False, error=str(exc))
        stats = exc.stats
    finally:
        if load_proc is not None:
            load_proc.terminate()
            try:
                load_proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                load_proc.kill()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    p1, wall = time.process_time(), time.monotonic() - w0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

    if stats is not None:
        files = [Path(f) for f in stats.files]
        rows = 0
        per_gpu: dict[int, tuple[list[float], list[float]]] = {}
        jobs_seen: set[str] = set()
        ts_all: set[float] = set()
        for f in files:
            t = pq.read_table(f).to_pydict()
            rows += len(t["gpu"])
            for ts, g, p, j in zip(t["ts"], t["gpu"], t["power_w"], t["job_id"]):
                secs = (ts - EPOCH).total_seconds()  # ts is timezone-naive UTC
                per_gpu.setdefault(g, ([], []))
                per_gpu[g][0].append(secs)
                per_gpu[g][1].append(p)
                ts_all.add(secs)
                if j:
                    jobs_seen.add(j)
        trap: dict[str, float] = {}
        mean_p: dict[str, float] = {}
        for g, (ts, pw) in sorted(per_gpu.items()):
            order = sorted(range(len(ts)), key=ts.__getitem__)
            ts_s, pw_s = [ts[i] for i in order], [pw[i] for i in order]
            trap[str(g)] = round(trapezoid_j(ts_s, pw_s), 3)
            mean_p[str(g)] = round(sum(pw_s) / len(pw_s), 3)
        counter = {str(g): (None if e is None else round(e, 3)) for g, e in sorted(stats.energy_j.items())}
        diff = {
            g: (None if counter.get(g) in (None, 0) else round(100 * (trap[g] - counter[g]) / counter[g], 3))
            for g in trap
        }
        ticks = sorted(ts_all)
        deltas = [b - a for a, b in zip(ticks, ticks[1:])]
        result.update(
            samples=stats.samples,
            rows_written=rows,
            ticks=stats.ticks,
            gpus=len(stats.gpus),
            gpu_names=[stats.gpu_names[g] for g in stats.gpus],
            gpu_uuids=[stats.gpu_uuids[g] for g in stats.gpus],
            driver_version=stats.driver_version,
            files=[str(f.relative_to(out)) if f.is_relative_to(out) else str(f) for f in files],
            errors=stats.errors,
            lost_gpus=stats.lost_gpus,
            energy_counter_j=counter,
            energy_trapezoid_j=trap,
            counter_vs_trapezoid_pct=diff,
            mean_power_w=mean_p,
            interval_s_mean=round(sum(deltas) / len(deltas), 6) if deltas else None,
            interval_jitter_ms_max=round(max(abs(d - interval) for d in deltas) * 1000, 3) if deltas else None,
            job_ids_seen=sorted(jobs_seen),
            collector_cpu_seconds=round(stats.cpu_seconds, 4),
            collector_wall_s=round(stats.wall_seconds, 3),
        )
        result.setdefault("ok", rows == stats.samples and stats.samples > 0 and not stats.lost_gpus)
    result.update(
        cpu_seconds=round(cpu, 4),
        cpu_pct=round(100 * cpu / wall, 4) if wall > 0 else None,
        process_time_s=round(p1 - p0, 4),
        wall_s=round(wall, 3),
        maxrss_mib=round(r1.ru_maxrss / 1024, 1),
    )
    line = json.dumps(result, sort_keys=True)
    print(line, flush=True)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "collector_device_check.json").write_text(line + "\n")
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
