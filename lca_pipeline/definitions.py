"""The single Dagster entry point: `defs`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from .assets.raw import raw_inputs
from .resources import LcaResource, Warehouse


def build_definitions(data_dir: str, database: str, config_file: str | None = None,
                      imported_dir: str | None = None) -> dg.Definitions:
    """Definitions bound to one data directory and one published DuckDB file (CLI, UI and tests)."""
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
        # In-process by default (the jobs' default run config); `multiprocess` fans the telemetry
        # slices out while the work database keeps one writer (docs/deployment.md).
        executor=dg.multi_or_in_process_executor,
    )


# The UI and `dagster definitions validate` read the environment here, never inside assets.
defs = build_definitions(
    data_dir=os.environ.get("LCA_DATA_DIR", "data/sample"),
    database=os.environ.get("LCA_DB", "data/warehouse/lca.duckdb"),
    config_file=os.environ.get("LCA_CONFIG") or None,
    imported_dir=os.environ.get("LCA_IMPORTED_DIR") or None,
)
