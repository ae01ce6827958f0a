"""Refresh single day partitions in-process, as the nightly schedule's runs do.

    python bench/refresh.py --data DIR --db FILE DAY [DAY ...]

For each DAY, one execution of the `lca_refresh` job with `partition_key=DAY` (what the nightly
schedule requests): the partitioned assets (gpu_samples, node_samples, telemetry_energy_hourly) for
that day only, every unpartitioned asset rebuilt. The runs go to the same Dagster instance as `lca run`
(DAGSTER_HOME, which bench/run.py sets per database); the day partitions are dynamic, so a DAY not yet
registered is added first, as the schedule does (outside the timed run). Prints the lca.progress lines
and then one JSON line: per day, wall seconds of the run and seconds per asset.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings

from common import PROGRESS, TELEMETRY_ASSETS


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.assets: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        print("  " + line, flush=True)
        m = PROGRESS.match(line)
        if m:
            self.assets[m.group(1)] = self.assets.get(m.group(1), 0.0) + float(m.group(3))


def register(instance, partitions_def, day: str) -> None:
    """Make DAY a partition of a dynamic partitions definition (a no-op for a static one)."""
    import dagster as dg

    if not isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        return
    if instance.has_dynamic_partition(partitions_def.name, day):
        return
    try:  # the pipeline's own registration keeps the partition list in date order
        from datetime import date

        from lca_pipeline.partitions import register_days

        register_days(instance, {date.fromisoformat(day)})
    except ImportError:
        instance.add_dynamic_partitions(partitions_def.name, [day])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("days", nargs="+")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    logging.getLogger("dagster").setLevel(logging.ERROR)
    from lca_pipeline.definitions import build_definitions
    from lca_pipeline.runner import persistent_instance

    handler = Collect()
    progress = logging.getLogger("lca.progress")
    progress.setLevel(logging.INFO)
    progress.propagate = False
    progress.handlers[:] = [handler]
    defs = build_definitions(args.data, args.db)
    job = defs.resolve_job_def("lca_refresh")
    instance = persistent_instance()
    runs = []
    for day in args.days:
        register(instance, job.partitions_def, day)
        handler.assets = {}
        started = time.perf_counter()
        result = job.execute_in_process(
            partition_key=day,
            instance=instance,
            tags={"lca/launcher": "bench"},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
        )
        seconds = time.perf_counter() - started
        if not result.success:
            failures = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            print(f"refresh of {day} failed in {failures}", file=sys.stderr)
            sys.exit(1)
        runs.append({
            "day": day,
            "seconds": round(seconds, 3),
            "telemetry_s": round(sum(handler.assets.get(a, 0.0) for a in TELEMETRY_ASSETS), 3),
            "assets": handler.assets,
        })
        print(f"refreshed {day} in {seconds:.2f} s", flush=True)
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
