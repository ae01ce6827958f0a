"""The single Dagster entry point: `defs`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from .assets.raw import raw_inputs
from .executors import executor_for
from .resources import LcaResource, Warehouse


def build_definitions(data_dir: str, database: str, config_file: str | None = None,
                      imported_dir: str | None = None, executor: str = "in_process",
                      max_concurrent: int | None = None) -> dg.Definitions:
    """Definitions bound to one data directory and one published DuckDB file (CLI, UI and tests).

    `executor` picks how a run's steps execute (executors.KINDS, docs/deployment.md); every
    executor runs the same job.
    """
    from .assets import ASSETS, CHECKS, JOBS, SCHEDULES, SENSORS

    published = Path(database)
    return dg.Definitions(
        assets=[raw_inputs, *ASSETS],
        asset_checks=CHECKS,
        jobs=JOBS,
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources={
            "warehouse": Warehouse(path=str(published)),
            "lca": LcaResource(
                data_dir=data_dir,
                config_file=config_file,
                imported_dir=imported_dir or str(published.parent / ".work" / "imported"),
            ),
        },
        executor=executor_for(executor, max_concurrent),
    )


# The UI and `dagster definitions validate` read the environment here, never inside assets.
defs = build_definitions(
    data_dir=os.environ.get("LCA_DATA_DIR", "data/sample"),
    database=os.environ.get("LCA_DB", "data/warehouse/lca.duckdb"),
    config_file=os.environ.get("LCA_CONFIG") or None,
    imported_dir=os.environ.get("LCA_IMPORTED_DIR") or None,
    executor=os.environ.get("LCA_EXECUTOR") or "in_process",
)
