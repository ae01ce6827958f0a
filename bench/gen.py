"""Synthetic fleet in the input contract (docs/data-contract.md), vectorised, for the benchmark.

Not the demo generator (lca_pipeline.sample): this one aims at size and speed, not realism. Layout:

    DIR/gpu_samples/YYYY-MM-DD/gpus-NNNN.parquet   one file per UTC day per `gpus_per_file` GPUs
    DIR/hosts.csv, sites.csv, jobs.csv, allocations.csv, grid_intensity.csv
    DIR/lca.toml                                    only when the interval needs a longer max_gap_s
    DIR/bench-manifest.json                         the parameters, so a later run can reuse the data

Fleet: `gpus` GPUs, 8 per host, hosts split in two halves over two sites (zones DE and US-CAL-CISO).
Each group of 4 GPUs on a host runs an independent timeline of jobs (0.5-6 h, gaps averaging a quarter
of a job, so about 80 % of GPU time is allocated). Power is ~600 W busy and ~75 W idle with noise; the
NVML counter `energy_mj` accumulates power x interval, continuing across days. Rows in a file are in
time order (all GPUs of a sample time together), as a collector writes them.

`pending_days` extra days are written under DIR/_pending/gpu_samples/ (invisible to the pipeline),
for the incremental benchmark to move into place.

`history_interval_s` > 0 makes a long history cheap: the loaded days after the first are sampled every
`history_interval_s` seconds, while the first day and the pending days keep `interval_s` (the days the
incremental benchmark times). Hosts, GPUs and jobs are the same on every day, and the energy counter
stays continuous across a change of interval: each day's first sample adds power x the time since the
previous day's last sample.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DAY_S = 86_400
GPUS_PER_HOST = 8
GROUP = 4  # GPUs per job slot
SITES = (("site-a", "DE", 1.25, 1.8, 2.1), ("site-b", "US-CAL-CISO", 1.12, 0.4, 3.9))
MODELS = ("bench-7b", "bench-70b", "bench-400b")
STAGES = ("training", "training", "experimentation", "inference", "evaluation", "post_training")


@dataclass(frozen=True)
class FleetSpec:
    gpus: int = 1024
    days: int = 1
    interval_s: int = 1
    start: str = "2024-03-04"
    seed: int = 7
    gpus_per_file: int = 128
    pending_days: int = 0
    history_interval_s: int = 0  # > 0: loaded days 1 .. days-1 sampled at this interval instead

    @property
    def hosts(self) -> int:
        return self.gpus // GPUS_PER_HOST

    def interval_of(self, d: int) -> int:
        """Sampling interval of day d (0 = the first day; days >= `days` are the pending ones)."""
        if self.history_interval_s and 0 < d < self.days:
            return self.history_interval_s
        return self.interval_s

    @property
    def max_interval_s(self) -> int:
        return max(self.interval_s, self.history_interval_s)

    @property
    def samples_per_day(self) -> int:
        """Samples of a day at `interval_s` (the first day, a pending day)."""
        return self.gpus * (DAY_S // self.interval_s)

    @property
    def samples(self) -> int:
        """Samples of the loaded days (not the pending ones)."""
        return sum(self.gpus * (DAY_S // self.interval_of(d)) for d in range(self.days))

    def day(self, d: int) -> str:
        return (datetime.fromisoformat(self.start) + timedelta(days=d)).date().isoformat()


def host_name(i: int) -> str:
    return f"bh{i:04d}"


def _t0(spec: FleetSpec) -> datetime:
    return datetime.fromisoformat(spec.start).replace(tzinfo=timezone.utc)


def _iso(t0: datetime, s: int) -> str:
    return (t0 + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timelines(spec: FleetSpec, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per 4-GPU group: job start and end (seconds from the first day's midnight), over all days."""
    horizon = (spec.days + spec.pending_days) * DAY_S
    mean_job = 3.25 * 3600
    n = int(horizon / (mean_job * 1.25) * 1.6) + 8
    out = []
    for _ in range(spec.gpus // GROUP):
        dur = rng.uniform(0.5 * 3600, 6 * 3600, n).astype(np.int64)
        gap = rng.exponential(0.25 * mean_job, n).astype(np.int64) + 60
        first = int(rng.uniform(0, 2 * 3600))
        starts = first + np.concatenate([[0], np.cumsum(dur + gap)[:-1]])
        ends = np.minimum(starts + dur, horizon)
        keep = starts < horizon
        out.append((starts[keep], ends[keep]))
    return out


def _write_tables(out: Path, spec: FleetSpec, timelines, rng: np.random.Generator) -> dict[str, int]:
    t0 = _t0(spec)
    counts: dict[str, int] = {}
    half = spec.hosts // 2 if spec.hosts > 1 else 1

    def write(name: str, header: list[str], rows: list[list]) -> None:
        with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        counts[name] = len(rows)

    write("sites", ["site", "zone", "pue", "wue_l_per_kwh", "ewif_l_per_kwh"], [list(s) for s in SITES])
    write("hosts", ["host", "site", "role", "gpu_count", "gpu_model"], [
        [host_name(h), SITES[0][0] if h < half else SITES[1][0], "compute", GPUS_PER_HOST, "H100-SXM5-80GB"]
        for h in range(spec.hosts)
    ])
    jobs, allocs = [], []
    for g, (starts, ends) in enumerate(timelines):
        host, first_gpu = divmod(g * GROUP, GPUS_PER_HOST)
        for k in range(len(starts)):
            job_id = f"j{g:05d}-{k:05d}"
            state = "FAILED" if rng.random() < 0.08 else "COMPLETED"
            jobs.append([job_id, MODELS[(g + k) % len(MODELS)], STAGES[(g * 7 + k) % len(STAGES)], state,
                         _iso(t0, starts[k]), _iso(t0, ends[k]), f"p{g % 5}", f"u{g % 17}"])
            for i in range(GROUP):
                allocs.append([job_id, host_name(host), first_gpu + i, "", ""])
    write("jobs", ["job_id", "model", "stage", "state", "start", "end", "project", "user"], jobs)
    write("allocations", ["job_id", "host", "gpu", "start", "end"], allocs)
    hours = (spec.days + spec.pending_days + 2) * 24
    grid = []
    for z, (_, zone, *_rest) in enumerate(SITES):
        h = np.arange(-24, hours - 24)
        values = 320 - 140 * z + 90 * np.sin(2 * np.pi * (h % 24) / 24 + z) + 20 * rng.standard_normal(h.size)
        grid += [[zone, _iso(t0, int(x) * 3600), round(float(v), 2), "lifecycle", "average", "bench"]
                 for x, v in zip(h, np.maximum(values, 20))]
    write("grid_intensity", ["zone", "ts", "gco2e_per_kwh", "basis", "kind", "source"], grid)
    return counts


def _write_day(folder: Path, spec: FleetSpec, d: int, timelines, counter_mj: np.ndarray,
               rng: np.random.Generator) -> int:
    """One UTC day of gpu_samples, one file per `gpus_per_file` GPUs; advances counter_mj in place."""
    folder.mkdir(parents=True, exist_ok=True)
    interval = spec.interval_of(d)
    steps = DAY_S // interval
    day0_s = d * DAY_S
    t0_us = int(_t0(spec).timestamp()) * 1_000_000 + day0_s * 1_000_000
    ts_step = t0_us + np.arange(steps, dtype=np.int64) * interval * 1_000_000
    # seconds since the previous sample: the first one follows the previous day's last sample
    dt_ms = np.full((steps, 1), interval * 1000.0)
    dt_ms[0, 0] = spec.interval_of(d - 1) * 1000.0 if d > 0 else interval * 1000.0
    written = 0
    for first in range(0, spec.gpus, spec.gpus_per_file):
        n = min(spec.gpus_per_file, spec.gpus - first)
        # busy[t, gpu]: allocated at sample t (a job covers samples with start <= ts < end)
        edges = np.zeros((steps + 1, n // GROUP), dtype=np.int32)
        for j in range(n // GROUP):
            starts, ends = timelines[(first // GROUP) + j]
            a = np.clip(-(-(starts - day0_s) // interval), 0, steps)
            b = np.clip(-(-(ends - day0_s) // interval), 0, steps)
            np.add.at(edges[:, j], a, 1)
            np.add.at(edges[:, j], b, -1)
        busy = np.repeat(np.cumsum(edges[:-1], axis=0) > 0, GROUP, axis=1)
        noise = rng.standard_normal((steps, n), dtype=np.float32)
        level = rng.uniform(520, 680, n).astype(np.float32)
        power = np.where(busy, level + 45 * noise, 75 + 4 * noise).clip(0, 1000).astype(np.float64).round(1)
        util = np.where(busy, np.clip(88 + 8 * noise, 0, 100), 0).astype(np.float64).round(0)
        energy = counter_mj[first:first + n] + np.cumsum(power * dt_ms, axis=0)
        counter_mj[first:first + n] = energy[-1]
        hosts = np.arange(first, first + n) // GPUS_PER_HOST
        names = pa.array([host_name(h) for h in range(hosts[0], hosts[-1] + 1)], pa.string())
        host_idx = np.tile((hosts - hosts[0]).astype(np.int32), steps)
        table = pa.table({
            "ts": pa.array(np.repeat(ts_step, n), pa.timestamp("us")),
            "host": pa.DictionaryArray.from_arrays(pa.array(host_idx), names),
            "gpu": pa.array(np.tile((np.arange(first, first + n) % GPUS_PER_HOST).astype(np.int32), steps)),
            "power_w": pa.array(power.ravel()),
            "energy_mj": pa.array(energy.ravel().round(0)),
            "util_pct": pa.array(util.ravel()),
        })
        pq.write_table(table, folder / f"gpus-{first:04d}.parquet", compression="zstd", compression_level=1,
                       row_group_size=1 << 20, use_dictionary=["host"], write_statistics=True)
        written += table.num_rows
        del table, power, util, energy, noise, busy
    return written


def generate(out: Path, spec: FleetSpec, log=print) -> dict:
    """Write the fleet to `out` unless bench-manifest.json there already matches `spec`."""
    out = Path(out)
    manifest = out / "bench-manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text())["spec"] == asdict(spec):
        log(f"reusing data in {out} ({spec.samples:,} samples)")
        return json.loads(manifest.read_text())
    if out.exists():
        import shutil

        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    timelines = _timelines(spec, rng)
    counts = _write_tables(out, spec, timelines, rng)
    if spec.max_interval_s * 1.2 > 300:  # the pipeline's default max_gap_s (300 s) would call every interval a gap
        (out / "lca.toml").write_text(f"[telemetry]\nmax_gap_s = {math.ceil(spec.max_interval_s * 1.03 + 5)}\n")
    counter = rng.uniform(1e9, 5e11, spec.gpus).round(0)
    samples = 0
    for d in range(spec.days + spec.pending_days):
        base = out / "_pending" if d >= spec.days else out
        rows = _write_day(base / "gpu_samples" / spec.day(d), spec, d, timelines, counter, rng)
        samples += rows if d < spec.days else 0
    allocated = sum(int((e - s).sum()) for s, e in timelines) * GROUP
    info = {
        "spec": asdict(spec),
        "samples": samples,
        "rows": counts,
        "allocated_share": allocated / (spec.gpus * (spec.days + spec.pending_days) * DAY_S),
        "bytes": sum(p.stat().st_size for p in out.rglob("*.parquet")),
        "seconds": round(time.perf_counter() - started, 2),
    }
    manifest.write_text(json.dumps(info, indent=2))
    log(f"generated {samples:,} samples ({info['bytes'] / 1e6:.0f} MB Parquet, "
        f"{info['allocated_share']:.0%} of GPU time allocated) in {info['seconds']:.1f} s -> {out}")
    return info
