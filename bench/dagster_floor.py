"""What one `lca_refresh` partition run costs Dagster itself, with no work in it.

    python bench/dagster_floor.py [--runs N] [--instance sqlite|memory|both]

Builds a job of the same shape as `lca_refresh`: every asset key it materialises, with the same
dependencies, partitions, code versions and group names, every asset check with the same blocking
flag, and a job-level failure hook, as `lca_refresh` has. The bodies do nothing and return at once.
It then runs N day partitions one after the other and prints one JSON line: seconds per run, steps and
events per run.

`sqlite` is the kind of instance `lca run`, the UI and the schedule use (a DAGSTER_HOME with SQLite
storage, here in a temporary folder); `memory` is Dagster's in-memory instance (nothing persists,
which no deployment can use), shown as a lower bound. A second block times chains of 1, 10 and 40
trivial partitioned assets, so the cost per step can be read off.

The long-history target (120 one-day runs in <= 120 s, i.e. <= 1 s per run) is compared with these
numbers in docs/performance.md.
"""

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
import warnings
from datetime import date, timedelta

import dagster as dg


def _quiet() -> dict:
    return {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def noop_refresh_job():
    """A job shaped like lca_refresh whose assets and checks do nothing."""
    from lca_pipeline.definitions import defs
    from lca_pipeline.partitions import DAYS

    real = defs.resolve_job_def("lca_refresh")
    graph = defs.resolve_asset_graph()
    assets, checks = [], []
    for key in sorted(real.asset_layer.executable_asset_keys):
        node = graph.get(key)

        def make(key=key, node=node):
            @dg.asset(key=key, deps=sorted(node.parent_keys), partitions_def=node.partitions_def,
                      code_version=node.code_version, group_name=node.group_name)
            def _asset() -> dg.MaterializeResult:
                return dg.MaterializeResult(metadata={"dagster/row_count": 0})
            return _asset

        assets.append(make())
    for check_key in sorted(real.asset_layer.asset_graph.asset_check_keys):
        spec = graph.get_check_spec(check_key)

        def make_check(check_key=check_key, blocking=bool(spec.blocking)):
            @dg.asset_check(asset=check_key.asset_key, name=check_key.name, blocking=blocking)
            def _check() -> dg.AssetCheckResult:
                return dg.AssetCheckResult(passed=True)
            return _check

        checks.append(make_check())

    @dg.failure_hook
    def on_failure(context: dg.HookContext) -> None:
        pass

    job = dg.define_asset_job("noop_refresh", selection=dg.AssetSelection.all(), partitions_def=DAYS,
                              hooks={on_failure})
    resolved = dg.Definitions(assets=assets, asset_checks=checks, jobs=[job]).resolve_job_def("noop_refresh")
    return resolved, DAYS, len(assets), len(checks)


def chain_job(n: int):
    parts = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    assets = []
    for i in range(n):
        def make(i=i):
            @dg.asset(key=f"a{i}", deps=[f"a{i - 1}"] if i else [], partitions_def=parts, code_version="1")
            def _asset() -> dg.MaterializeResult:
                return dg.MaterializeResult(metadata={"dagster/row_count": 0})
            return _asset
        assets.append(make())
    job = dg.define_asset_job("chain", selection=dg.AssetSelection.all(), partitions_def=parts)
    return dg.Definitions(assets=assets, jobs=[job]).resolve_job_def("chain")


def timed_runs(job, instance, days: list[str]) -> tuple[list[float], object]:
    secs, result = [], None
    for day in days:
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=day, instance=instance, run_config=_quiet())
        secs.append(time.perf_counter() - started)
    return secs, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="partition runs per measurement (default 10)")
    ap.add_argument("--instance", choices=("sqlite", "memory", "both"), default="both")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
    home = tempfile.mkdtemp(prefix="lca-dagster-floor-")
    # An empty dagster.yaml: Dagster's defaults (SQLite storage in the folder), without its warning.
    open(os.path.join(home, "dagster.yaml"), "w").close()
    os.environ["DAGSTER_HOME"] = home
    logging.getLogger("dagster").setLevel(logging.ERROR)
    from lca_pipeline.partitions import register_days

    job, days_def, n_assets, n_checks = noop_refresh_job()
    first = date(2024, 3, 4)
    days = [(first + timedelta(days=i)).isoformat() for i in range(args.runs)]
    out: dict = {"study": "dagster_floor", "assets": n_assets, "checks": n_checks, "runs": args.runs,
                 "dagster": dg.__version__}
    kinds = ("sqlite", "memory") if args.instance == "both" else (args.instance,)
    for kind in kinds:
        instance = dg.DagsterInstance.get() if kind == "sqlite" else dg.DagsterInstance.ephemeral()
        if isinstance(days_def, dg.DynamicPartitionsDefinition):
            register_days(instance, {date.fromisoformat(d) for d in days})
        secs, result = timed_runs(job, instance, days)
        out[f"{kind}_per_run_s"] = [round(s, 3) for s in secs]
        out[f"{kind}_median_s"] = round(statistics.median(secs), 3)
        out[f"{kind}_steps"] = len({e.step_key for e in result.all_events if e.step_key})
        out[f"{kind}_events"] = len(instance.all_logs(result.run_id))
        print(f"no-op lca_refresh shape, {kind} instance: median {out[f'{kind}_median_s']:.2f} s per run "
              f"({out[f'{kind}_steps']} steps, {out[f'{kind}_events']} events); "
              f"{args.runs} runs {sum(secs):.1f} s", flush=True)
    instance = dg.DagsterInstance.get()
    for n in (1, 10, 40):
        secs, _ = timed_runs(chain_job(n), instance, [f"2024-03-{d + 1:02d}" for d in range(args.runs)])
        out[f"chain_{n}_median_s"] = round(statistics.median(secs), 3)
        print(f"chain of {n} trivial assets, sqlite instance: median {out[f'chain_{n}_median_s']:.3f} s per run",
              flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
