"""The baseline: what an analyst would write in plain pandas, on a subset of the samples.

    python bench/baseline_pandas.py DATA_DIR [--min-rows 10000000]

Takes whole gpu_samples files of the first day until at least --min-rows samples (all of them if
the data is smaller), then: GPU-hour energy (sort, per-GPU diff, trapezoid, groupby hour), job
attribution (merge_asof of every sample onto the allocation that started last on its GPU, kept
when the sample lies inside it) and hourly carbon (merge on site -> zone, PUE and the zone's hourly
intensity). Prints one JSON line with the seconds for the whole thing and for each step.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq


def pick_files(data: Path, min_rows: int) -> list[Path]:
    days = sorted(p for p in (data / "gpu_samples").iterdir() if p.is_dir())
    files: list[Path] = []
    rows = 0
    for day in days:
        for f in sorted(day.glob("*.parquet")):
            files.append(f)
            rows += pq.ParquetFile(f).metadata.num_rows
            if rows >= min_rows:
                return files
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--min-rows", type=int, default=10_000_000)
    ap.add_argument("--max-gap-s", type=float, default=300.0)
    args = ap.parse_args()
    files = pick_files(args.data, args.min_rows)
    steps: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps[name] = round(now - last, 3)
        last = now

    # 1. GPU-hour energy
    df = pd.concat([pd.read_parquet(f, columns=["ts", "host", "gpu", "power_w"]) for f in files],
                   ignore_index=True)
    df["host"] = df["host"].astype(str)
    lap("read")
    df = df.sort_values(["host", "gpu", "ts"], ignore_index=True)
    g = df.groupby(["host", "gpu"], sort=False)
    df["dt_s"] = g["ts"].diff().dt.total_seconds()
    df["p0"] = g["power_w"].shift()
    df = df[df["dt_s"].notna() & (df["dt_s"] <= args.max_gap_s)].copy()
    df["kwh"] = (df["p0"] + df["power_w"]) / 2 * df["dt_s"] / 3.6e6
    df["hour"] = (df["ts"] - pd.to_timedelta(df["dt_s"], unit="s")).dt.floor("h")
    gpu_hour = df.groupby(["host", "gpu", "hour"], as_index=False)["kwh"].sum()
    lap("gpu_hour_energy")

    # 2. Job attribution: each sample interval to the job holding the GPU at its end
    jobs = pd.read_csv(args.data / "jobs.csv", parse_dates=["start", "end"])
    allocs = pd.read_csv(args.data / "allocations.csv", dtype={"start": str, "end": str})
    allocs = allocs.merge(jobs[["job_id", "start", "end"]], on="job_id", suffixes=("", "_job"))
    for col in ("start", "end"):  # an allocation without its own times takes the job's
        own = pd.to_datetime(allocs[col], utc=True).dt.tz_localize(None).astype(df["ts"].dtype)
        job = allocs[f"{col}_job"].dt.tz_localize(None).astype(df["ts"].dtype)
        allocs[col] = own.fillna(job)
    allocs["gpu"] = allocs["gpu"].astype(df["gpu"].dtype)
    allocs = allocs[allocs["host"].isin(df["host"].unique())].sort_values("start")
    df = df.sort_values("ts", ignore_index=True)
    att = pd.merge_asof(df[["ts", "host", "gpu", "hour", "kwh"]], allocs[["host", "gpu", "start", "end", "job_id"]],
                        left_on="ts", right_on="start", by=["host", "gpu"])
    att.loc[att["ts"] > att["end"], "job_id"] = None
    att["job_id"] = att["job_id"].fillna("unallocated")
    job_hour = att.groupby(["job_id", "host", "hour"], as_index=False)["kwh"].sum()
    lap("job_attribution")

    # 3. Hourly carbon: host -> site -> zone and PUE, then the zone's intensity for the hour
    hosts = pd.read_csv(args.data / "hosts.csv")
    sites = pd.read_csv(args.data / "sites.csv")
    grid = pd.read_csv(args.data / "grid_intensity.csv", parse_dates=["ts"])
    grid["hour"] = grid["ts"].dt.tz_localize(None).astype(df["ts"].dtype)
    job_hour = job_hour.merge(hosts[["host", "site"]], on="host").merge(sites[["site", "zone", "pue"]], on="site")
    job_hour = job_hour.merge(grid[["zone", "hour", "gco2e_per_kwh"]], on=["zone", "hour"], how="left")
    job_hour["facility_kwh"] = job_hour["kwh"] * job_hour["pue"]
    job_hour["co2e_kg"] = job_hour["facility_kwh"] * job_hour["gco2e_per_kwh"] / 1000
    per_job = job_hour.groupby("job_id", as_index=False)[["kwh", "facility_kwh", "co2e_kg"]].sum()
    lap("hourly_carbon")

    seconds = time.perf_counter() - started
    samples = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    print(json.dumps({
        "seconds": round(seconds, 3),
        "samples": samples,
        "files": len(files),
        "steps": steps,
        "gpu_hours": len(gpu_hour),
        "jobs": int((per_job["job_id"] != "unallocated").sum()),
        "energy_kwh": float(gpu_hour["kwh"].sum()),
        "co2e_kg": float(per_job["co2e_kg"].sum()),
    }))


if __name__ == "__main__":
    main()
