"""Benchmark of lca-pipeline against a hardware floor and a pandas baseline (a script, not a test).

    python bench/run.py [--gpus N] [--days D] [--interval-s S] [--small] [--out DIR]
                        [--incremental [--history-days H]] [--scaling] [--long-history [--per-day-limit N]]
                        [--all] [--src DIR]

Default (1,024 GPUs x 1 day x 1 s = 88.5M samples): generate the fleet (reused when bench-manifest.json
matches), then measure, in one run
  floor     one DuckDB query over the same Parquet: energy per (host, gpu, hour)   (bench/floor.py)
  pipeline  `lca run` end to end in a subprocess; per-asset seconds from its progress lines
  pandas    GPU-hour energy, job attribution and hourly carbon on >= 10M samples (bench/baseline_pandas.py)
each with wall time, the subprocess's peak RSS and rows/s. Targets (issue 12): telemetry stages <= 3x the
floor (goal 2x), >= 4x pandas per row, peak RSS <= 3 GB.

--incremental  H days of history (default 30; day 1 at 1 s, the others at 60 s) loaded, then one
               partition run of day 1 and one of a new day at 1 s: new / first <= 1.1x.
--scaling      1 vs 4 days, per row.
--long-history 120 days x 384 GPUs hourly, refreshed one day per run, all 120 runs measured: <= 120 s.
They run instead of the default study (--all runs everything); see bench/README.md. Each study prints one
JSON line (with the machine and the load average at its start and end) as soon as it is measured, and
writes it to OUT/results/<time>-<study>.json. --src DIR runs the pipeline from another checkout (a scratch
copy with a proposed fix) by putting DIR first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

from common import REPO, Measured, loadavg, machine, measure, python
from gen import FleetSpec, generate

# Issue 12's targets.
TARGETS = {
    "ratio_telemetry_floor": 3.0,      # telemetry stages <= 3x floor (the goal is 2x, below)
    "peak_rss_mb": 3072.0,             # <= 3 GB at 88.5M samples
    "ratio_pandas_pipeline": 4.0,      # >= 4x faster per row than pandas
    "ratio_incremental": 1.1,          # refreshing a new day <= 1.1x refreshing the first day, >= 30 days of history
    "scaling_deviation": 0.15,         # 4 days within 15 % of 4 x 1 day (per row)
    "long_history_s": 120.0,           # 120 days hourly, 384 GPUs, one run per day: <= 2 min in total, measured
}
GOALS = {"ratio_telemetry_floor": 2.0}  # reported next to the targets, not a target
MIN_HISTORY_DAYS = 30  # the incremental target needs at least this much history in the database
LONG_HISTORY_SIZE = (120, 384)  # days, GPUs: the long-history target is judged at this size or larger


def say(msg: str = "") -> None:
    print(msg, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.env = {}
        self.cwd = REPO  # `python -m` puts the working directory first on sys.path
        if args.src:
            self.cwd = Path(args.src).resolve()
            self.env["PYTHONPATH"] = str(self.cwd) + os.pathsep + os.environ.get("PYTHONPATH", "")
            say(f"pipeline code from {self.cwd}")

    # ----------------------------------------------------------------------------------- helpers
    def fleet(self, name: str, spec: FleetSpec) -> tuple[Path, dict]:
        data = self.out / name
        info = generate(data, spec, log=lambda m: say("  " + m))
        return data, info

    def db_path(self, name: str) -> Path:
        """OUT/db/NAME/NAME.duckdb: each database in its own folder, with its versions, run log, work
        area and Dagster instance (DAGSTER_HOME), so a fresh start removes only that folder."""
        return self.out / "db" / name / f"{name}.duckdb"

    def env_for(self, db: Path) -> dict[str, str]:
        """The database's own Dagster instance (its day partitions, runs and materialisations)."""
        return {**self.env, "DAGSTER_HOME": str(db.parent / "dagster")}

    def fresh_db(self, db: Path) -> None:
        shutil.rmtree(db.parent, ignore_errors=True)
        db.parent.mkdir(parents=True)

    def lca_run(self, data: Path, db: Path, label: str) -> Measured:
        self.fresh_db(db)
        m = measure([python(), "-m", "lca_pipeline.cli", "run", "--data", str(data), "--db", str(db)],
                    env=self.env_for(db), echo=self.args.verbose, cwd=self.cwd)
        say(f"  {label}: {m.seconds:.1f} s wall, telemetry stages {m.telemetry_s:.1f} s, "
            f"peak RSS {m.peak_rss_mb:.0f} MB (load {m.load_before} -> {m.load_after})")
        return m

    def refresh(self, data: Path, db: Path, days: list[str]) -> tuple[Measured, list[dict]]:
        m = measure([python(), str(REPO / "bench" / "refresh.py"), "--data", str(data), "--db", str(db), *days],
                    env=self.env_for(db), echo=self.args.verbose, cwd=self.cwd)
        return m, m.last_json()["runs"]

    def best_of(self, n: int, fn):
        runs = [fn() for _ in range(n)]
        return min(runs, key=lambda m: m.seconds), runs

    # ------------------------------------------------------------------------------ default study
    def main_study(self) -> dict:
        a = self.args
        spec = FleetSpec(gpus=a.gpus, days=a.days, interval_s=a.interval_s)
        say(f"\n== fleet: {spec.gpus} GPUs x {spec.days} day(s) x {spec.interval_s} s = {spec.samples:,} samples")
        data, info = self.fleet(f"fleet-{spec.gpus}g-{spec.days}d-{spec.interval_s}s", spec)
        samples = info["samples"]

        if a.pipeline_only:
            return self.pipeline_only(data, spec, samples)
        say("\n== floor: one DuckDB query (bench/floor.py)")
        floor, floor_runs = self.best_of(a.repeat_floor, lambda: measure(
            [python(), str(REPO / "bench" / "floor.py"), str(data)]))
        for m in floor_runs:
            say(f"  floor: {m.last_json()['seconds']:.2f} s query, {m.seconds:.2f} s process, "
                f"peak RSS {m.peak_rss_mb:.0f} MB (load {m.load_before} -> {m.load_after})")
        fj = floor.last_json()
        floor_s = min(m.last_json()["seconds"] for m in floor_runs)

        say("\n== pipeline: lca run, end to end")
        db = self.db_path(f"main-{spec.gpus}g-{spec.days}d-{spec.interval_s}s")
        pipe, pipe_runs = self.best_of(a.repeat_pipeline, lambda: self.lca_run(data, db, "lca run"))
        with duckdb.connect(str(db), read_only=True) as conn:
            pipe_kwh, pipe_co2 = conn.execute(
                "SELECT (SELECT sum(energy_gpu_kwh) FROM intermediate.gpu_hourly), "
                "(SELECT sum(co2e_location_kg) FROM intermediate.impacts_hourly)").fetchone()
        for name, secs in sorted(pipe.assets.items(), key=lambda kv: -kv[1])[:8]:
            say(f"    {name:<42} {secs:8.2f} s")

        say(f"\n== pandas baseline (>= {a.pandas_rows:,} samples, bench/baseline_pandas.py)")
        pandas, pandas_runs = self.best_of(a.repeat_pandas, lambda: measure(
            [python(), str(REPO / "bench" / "baseline_pandas.py"), str(data), "--min-rows", str(a.pandas_rows)]))
        pj = pandas.last_json()
        say(f"  pandas: {pj['seconds']:.2f} s for {pj['samples']:,} samples, steps {pj['steps']}, "
            f"peak RSS {pandas.peak_rss_mb:.0f} MB (load {pandas.load_before} -> {pandas.load_after})")

        telemetry_s = pipe.telemetry_s
        pandas_s_per_row = pj["seconds"] / pj["samples"]
        pipeline_s_per_row = pipe.seconds / samples
        res = {
            "samples": samples,
            "floor_s": round(floor_s, 3),
            "pipeline_s": round(pipe.seconds, 3),
            "telemetry_stages_s": round(telemetry_s, 3),
            "pandas_s_per_row": pandas_s_per_row,
            "pipeline_s_per_row": pipeline_s_per_row,
            "peak_rss_mb": round(pipe.peak_rss_mb, 1),
            "ratio_telemetry_floor": round(telemetry_s / floor_s, 3),
            "ratio_pandas_pipeline": round(pandas_s_per_row / pipeline_s_per_row, 3),
            "floor_peak_rss_mb": round(floor.peak_rss_mb, 1),
            "pandas_peak_rss_mb": round(pandas.peak_rss_mb, 1),
            "pandas_samples": pj["samples"],
            "pandas_s": pj["seconds"],
            "assets_s": {k: round(v, 3) for k, v in pipe.assets.items()},
            "pipeline_runs_s": [round(m.seconds, 3) for m in pipe_runs],
            "floor_runs_s": [m.last_json()["seconds"] for m in floor_runs],
            "energy_check_kwh": {"floor": fj["energy_kwh"], "pipeline": pipe_kwh},
            "co2e_pipeline_kg": pipe_co2,
        }
        say("\n  what        wall s     rows/s        peak RSS MB")
        for label, secs, rows, rss in (
            ("floor", floor_s, samples, floor.peak_rss_mb),
            ("pipeline", pipe.seconds, samples, pipe.peak_rss_mb),
            ("telemetry", telemetry_s, samples, pipe.peak_rss_mb),
            ("pandas", pj["seconds"], pj["samples"], pandas.peak_rss_mb),
        ):
            say(f"  {label:<10} {secs:8.2f} {rows / secs:12,.0f} {rss:12.0f}")
        res["targets"] = {
            "telemetry_le_3x_floor": res["ratio_telemetry_floor"] <= TARGETS["ratio_telemetry_floor"],
            "peak_rss_le_3gb": res["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
            "pandas_ge_4x": res["ratio_pandas_pipeline"] >= TARGETS["ratio_pandas_pipeline"],
        }
        res["goals_met"] = {
            "telemetry_le_2x_floor": res["ratio_telemetry_floor"] <= GOALS["ratio_telemetry_floor"],
        }
        return res

    def pipeline_only(self, data: Path, spec: FleetSpec, samples: int) -> dict:
        """Just `lca run` (e.g. to measure a proposed fix with --src); no floor, no pandas."""
        say("\n== pipeline only: lca run, end to end")
        db = self.db_path(f"main-{spec.gpus}g-{spec.days}d-{spec.interval_s}s")
        pipe, runs = self.best_of(self.args.repeat_pipeline, lambda: self.lca_run(data, db, "lca run"))
        for name, secs in sorted(pipe.assets.items(), key=lambda kv: -kv[1])[:6]:
            say(f"    {name:<42} {secs:8.2f} s")
        return {
            "samples": samples,
            "pipeline_s": round(pipe.seconds, 3),
            "telemetry_stages_s": round(pipe.telemetry_s, 3),
            "pipeline_s_per_row": pipe.seconds / samples,
            "peak_rss_mb": round(pipe.peak_rss_mb, 1),
            "assets_s": {k: round(v, 3) for k, v in pipe.assets.items()},
            "pipeline_runs_s": [round(m.seconds, 3) for m in runs],
            "targets": {"peak_rss_le_3gb": pipe.peak_rss_mb <= TARGETS["peak_rss_mb"]},
        }

    # ----------------------------------------------------------------------------- incremental
    def incremental(self) -> dict:
        """History of `--history-days` days in the database; refresh its first day, then a new day.

        Day 0 (the first day) and the new day are sampled at the study's interval (1 s); days 1 ..
        H-1 every `--history-interval-s` (60 s), so a month of history stays cheap to generate and
        load. `lca run` loads the H days, then one `lca_refresh` partition run of day 0 and, after
        the pending day H is moved into place, one of day H. The ratio (new day / first day) is the
        nightly cost's growth with history; both runs have the same history in the database.
        """
        a = self.args
        hist = a.history_days
        spec = FleetSpec(gpus=a.study_gpus, days=hist, interval_s=a.interval_s, pending_days=1,
                         history_interval_s=a.history_interval_s if hist > 1 else 0)
        say(f"\n== incremental: {spec.gpus} GPUs, {hist} day(s) of history (day 1 at {spec.interval_s} s, "
            f"days 2-{hist} at {spec.interval_of(1)} s, {spec.samples:,} samples), then a new day at "
            f"{spec.interval_s} s")
        data, info = self.fleet(
            f"incr-{spec.gpus}g-{hist}d-{spec.interval_s}s-h{spec.history_interval_s}s", spec)
        db = self.db_path("incremental")
        full = self.lca_run(data, db, f"lca run, {hist} day(s) of history")
        first_day, new_day = spec.day(0), spec.day(spec.days)
        m1, first = self.refresh(data, db, [first_day] * a.repeat_refresh)
        pending = data / "_pending" / "gpu_samples" / new_day
        target = data / "gpu_samples" / new_day
        pending.rename(target)
        try:
            m2, new = self.refresh(data, db, [new_day] * a.repeat_refresh)
        finally:
            target.rename(pending)
        for label, runs in (("first day", first), ("new day", new)):
            for k, r in enumerate(runs):
                say(f"  refresh {label} ({r['day']}, run {k + 1}): {r['seconds']:.2f} s, "
                    f"telemetry stages {r['telemetry_s']:.2f} s")
        say(f"  peak RSS of the refresh processes: {m1.peak_rss_mb:.0f} / {m2.peak_rss_mb:.0f} MB")
        ratio = new[0]["seconds"] / first[0]["seconds"]
        ratio_best = min(r["seconds"] for r in new) / min(r["seconds"] for r in first)
        say(f"  ratio new day / first day: {ratio:.3f} (best of {len(new)}: {ratio_best:.3f})")
        res = {
            "incremental_gpus": spec.gpus,
            "incremental_history_days": hist,
            "incremental_interval_s": spec.interval_s,
            "incremental_history_interval_s": spec.interval_of(1),
            "incremental_history_samples": info["samples"],
            "incremental_samples_per_day": spec.samples_per_day,
            "incremental_first_day": first_day,
            "incremental_new_day": new_day,
            "incremental_full_load_s": round(full.seconds, 3),
            "incremental_first_day_s": [r["seconds"] for r in first],
            "incremental_new_day_s": [r["seconds"] for r in new],
            "incremental_first_day_telemetry_s": [r["telemetry_s"] for r in first],
            "incremental_new_day_telemetry_s": [r["telemetry_s"] for r in new],
            "incremental_assets_first_day": first[0]["assets"],
            "incremental_assets_new_day": new[0]["assets"],
            "ratio_incremental": round(ratio, 3),
            "ratio_incremental_best": round(ratio_best, 3),
            "incremental_peak_rss_mb": round(max(m1.peak_rss_mb, m2.peak_rss_mb), 1),
        }
        if hist >= MIN_HISTORY_DAYS:
            res["targets_incremental"] = {"incremental_le_1_1x": ratio <= TARGETS["ratio_incremental"]}
        else:
            res["incremental_verdict"] = (f"none: {hist} day(s) of history, the target needs "
                                          f">= {MIN_HISTORY_DAYS}")
            say(f"  no target verdict: {hist} day(s) of history < {MIN_HISTORY_DAYS}")
        return res

    # --------------------------------------------------------------------------------- scaling
    def scaling(self) -> dict:
        a = self.args
        res: dict = {}
        runs = {}
        for days in (1, 4):
            spec = FleetSpec(gpus=a.study_gpus, days=days, interval_s=a.interval_s)
            say(f"\n== scaling: {spec.gpus} GPUs x {days} day(s) x {spec.interval_s} s = {spec.samples:,} samples")
            data, info = self.fleet(f"fleet-{spec.gpus}g-{days}d-{spec.interval_s}s", spec)
            db = self.db_path(f"scaling-{days}d")
            best, _ = self.best_of(a.repeat_pipeline, lambda: self.lca_run(data, db, f"lca run, {days} day(s)"))
            runs[days] = (best, info["samples"])
            res[f"scaling_{days}d_s"] = round(best.seconds, 3)
            res[f"scaling_{days}d_telemetry_s"] = round(best.telemetry_s, 3)
            res[f"scaling_{days}d_samples"] = info["samples"]
            res[f"scaling_{days}d_peak_rss_mb"] = round(best.peak_rss_mb, 1)
            res[f"scaling_{days}d_assets"] = {k: round(v, 3) for k, v in best.assets.items()}
        (m1, n1), (m4, n4) = runs[1], runs[4]
        res["scaling_factor_total"] = round((m4.seconds / n4) / (m1.seconds / n1), 3)
        res["scaling_factor_telemetry"] = round((m4.telemetry_s / n4) / (m1.telemetry_s / n1), 3)
        dev = abs(res["scaling_factor_total"] - 1)
        say(f"  per-row time, 4 days / 1 day: total {res['scaling_factor_total']:.3f}, "
            f"telemetry stages {res['scaling_factor_telemetry']:.3f}")
        res["targets_scaling"] = {
            "scaling_linear_15pct": dev <= TARGETS["scaling_deviation"],
            "scaling_telemetry_linear_15pct": abs(res["scaling_factor_telemetry"] - 1) <= TARGETS["scaling_deviation"],
        }
        return res

    # ---------------------------------------------------------------------------- long history
    def long_history(self) -> dict:
        """120 days hourly, 384 GPUs, refreshed one day per run (as the nightly schedule would have).

        The target value is `long_history_per_day_total_s`: the measured wall time of one process
        running every per-day `lca_refresh` run in turn, on a fresh database. `--per-day-limit N`
        below the day count runs only the first N days: reported as partial, with no verdict (no
        extrapolation). One `lca run` over the whole range is measured too, as extra information.
        """
        a = self.args
        spec = FleetSpec(gpus=a.long_gpus, days=a.long_days, interval_s=3600)
        say(f"\n== long history: {spec.gpus} GPUs x {spec.days} days x hourly = {spec.samples:,} samples")
        data, info = self.fleet(f"long-{spec.gpus}g-{spec.days}d-3600s", spec)
        say(f"  {data / 'lca.toml'}: {(data / 'lca.toml').read_text().strip()!r}")
        db = self.db_path("long")
        one = self.lca_run(data, db, "lca run over the whole partition range")
        for name, secs in sorted(one.assets.items(), key=lambda kv: -kv[1])[:6]:
            say(f"    {name:<42} {secs:8.2f} s")
        res: dict = {
            "long_history_gpus": spec.gpus,
            "long_history_days": spec.days,
            "long_history_samples": info["samples"],
            "long_history_range_s": round(one.seconds, 3),
            "long_history_range_telemetry_s": round(one.telemetry_s, 3),
            "long_history_range_peak_rss_mb": round(one.peak_rss_mb, 1),
            "long_history_range_assets": {k: round(v, 3) for k, v in one.assets.items()},
        }
        limit = a.per_day_limit if a.per_day_limit and a.per_day_limit < spec.days else spec.days
        days = [spec.day(d) for d in range(limit)]
        partial = limit < spec.days
        db2 = self.db_path("long-per-day")
        self.fresh_db(db2)
        say(f"  one lca_refresh run per day, {len(days)} of {spec.days} days, in one process"
            + (" (PARTIAL: --per-day-limit)" if partial else ""))
        m, runs = self.refresh(data, db2, days)
        secs = [r["seconds"] for r in runs]
        per_run = sum(secs) / len(secs)
        say(f"  {len(runs)} per-day runs in {m.seconds:.1f} s (one process, load {m.load_before} -> "
            f"{m.load_after}), {per_run:.2f} s per run (first {secs[0]:.2f}, last {secs[-1]:.2f}), "
            f"peak RSS {m.peak_rss_mb:.0f} MB")
        res.update({
            "long_history_per_day_runs": len(runs),
            "long_history_per_day_partial": partial,
            "long_history_per_day_total_s": round(m.seconds, 3),
            "long_history_per_day_runs_sum_s": round(sum(secs), 3),
            "long_history_per_day_mean_s": round(per_run, 3),
            "long_history_per_day_first_last_s": [secs[0], secs[-1]],
            "long_history_per_day_s": secs,
            "long_history_per_day_telemetry_mean_s": round(sum(r["telemetry_s"] for r in runs) / len(runs), 3),
            "long_history_per_day_peak_rss_mb": round(m.peak_rss_mb, 1),
        })
        if partial:
            res["long_history_verdict"] = (f"none: partial, {len(runs)} of {spec.days} days run "
                                           "(--per-day-limit); not extrapolated")
            say(f"  no target verdict: only {len(runs)} of {spec.days} days were run")
        elif spec.days < LONG_HISTORY_SIZE[0] or spec.gpus < LONG_HISTORY_SIZE[1]:
            res["long_history_verdict"] = (f"none: {spec.days} days x {spec.gpus} GPUs is smaller than the "
                                           f"target's {LONG_HISTORY_SIZE[0]} days x {LONG_HISTORY_SIZE[1]} GPUs")
            say("  no target verdict: " + res["long_history_verdict"][6:])
        else:
            res["targets_long_history"] = {
                "long_history_per_day_total_le_120s": m.seconds <= TARGETS["long_history_s"]}
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpus", type=int, help="GPUs (multiple of 8; default 1024; the incremental and scaling "
                    "studies use 256 unless run alone with --gpus)")
    ap.add_argument("--days", type=int, help="days of the default study (default 1)")
    ap.add_argument("--interval-s", type=int, help="sampling interval in seconds (default 1)")
    ap.add_argument("--small", action="store_true", help="quick preset: 64 GPUs x 1 day x 10 s")
    ap.add_argument("--out", default=str(REPO / "bench" / "out"), help="data and DuckDB files (default bench/out)")
    ap.add_argument("--incremental", action="store_true", help="refresh a new day vs the first day, "
                    "with a month of history in the database")
    ap.add_argument("--history-days", type=int, default=MIN_HISTORY_DAYS,
                    help=f"--incremental: days of history loaded (default {MIN_HISTORY_DAYS}; the target "
                         f"needs >= {MIN_HISTORY_DAYS})")
    ap.add_argument("--history-interval-s", type=int, default=60,
                    help="--incremental: sampling interval of the history days after the first (default 60)")
    ap.add_argument("--repeat-refresh", type=int, default=2,
                    help="--incremental: refresh runs of each of the two days (default 2; the ratio uses the first)")
    ap.add_argument("--scaling", action="store_true", help="1 vs 4 days")
    ap.add_argument("--long-history", action="store_true", help="120 days hourly for 384 GPUs, one run per day")
    ap.add_argument("--all", action="store_true", help="the default study and all three above")
    ap.add_argument("--long-gpus", type=int, default=384)
    ap.add_argument("--long-days", type=int, default=120)
    ap.add_argument("--per-day-limit", type=int, default=0,
                    help="--long-history: one run per day for the first N days only, reported as partial "
                         "with no verdict (default 0 = every day, measured)")
    ap.add_argument("--pandas-rows", type=int, default=10_000_000, help="pandas subset size (default 10M)")
    ap.add_argument("--repeat-floor", type=int, default=2)
    ap.add_argument("--repeat-pipeline", type=int, default=1)
    ap.add_argument("--repeat-pandas", type=int, default=1)
    ap.add_argument("--pipeline-only", action="store_true", help="default study: only `lca run` (no floor, pandas)")
    ap.add_argument("--src", help="run the pipeline from this checkout (PYTHONPATH), e.g. a scratch copy")
    ap.add_argument("--verbose", action="store_true", help="echo the pipeline's progress lines")
    args = ap.parse_args()
    studies = [s for s in ("incremental", "scaling", "long_history") if getattr(args, s) or args.all]
    run_main = args.all or not studies
    small = args.small
    only_studies = bool(studies) and not run_main
    # The main study's size; the studies default to a quarter of the fleet (same 88.5M rows at 4 days).
    args.study_gpus = (args.gpus if only_studies and args.gpus else (64 if small else 256))
    args.gpus = args.gpus or (64 if small else 1024)
    args.days = args.days or 1
    args.interval_s = args.interval_s or (10 if small else 1)
    if small:
        args.long_gpus, args.long_days = min(args.long_gpus, 64), min(args.long_days, 10)
        args.history_days = min(args.history_days, 3)
        args.repeat_pipeline = max(args.repeat_pipeline, 2)
        args.repeat_pandas = max(args.repeat_pandas, 2)
        args.repeat_floor = max(args.repeat_floor, 3)
    if args.gpus % 8 or args.study_gpus % 8:
        ap.error("--gpus must be a multiple of 8")
    if args.history_days < 1 or args.repeat_refresh < 1:
        ap.error("--history-days and --repeat-refresh must be >= 1")

    m = machine()
    say(f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gb']} GB RAM, Python {m['python']}, "
        f"DuckDB {m['duckdb']}; load {loadavg()}")
    bench = Bench(args)
    results = bench.out / "results"
    results.mkdir(exist_ok=True)
    lines = []
    for name in (["default"] if run_main else []) + studies:
        started = time.time()
        load_start = loadavg()
        result: dict = {"study": name}
        result.update(bench.main_study() if name == "default" else getattr(bench, name)())
        result["study_s"] = round(time.time() - started, 1)
        result["started_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        result["load_start"], result["load_end"] = load_start, loadavg()
        result["machine"] = m
        verdicts = {k: v for key in list(result) if key.startswith("targets") for k, v in result.pop(key).items()}
        result["targets_met"] = verdicts
        result["argv"] = sys.argv[1:]
        say(f"\n== {name}: targets " + (", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in verdicts.items())
                                       or "none judged")
            + "".join(f"; goal {k} {'met' if v else 'missed'}" for k, v in result.get("goals_met", {}).items())
            + f" (load {load_start} -> {result['load_end']})")
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
        (results / f"{stamp}-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        lines.append(json.dumps(result))
        say(lines[-1])  # one JSON line per study, as soon as it is measured
    if len(lines) > 1:
        say("\n== one JSON line per study:")
        for line in lines:
            say(line)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
