"""The single Dagster entry point: `defs`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from .assets.raw import raw_inputs
from .resources import LcaResource, make_duckdb


def build_definitions(data_dir: str, database: str, config_file: str | None = None,
                      imported_dir: str | None = None) -> dg.Definitions:
    """Definitions bound to one data directory and one DuckDB file (used by the CLI and tests)."""
    from .assets import ASSETS, CHECKS, JOBS, SCHEDULES

    return dg.Definitions(
        assets=[raw_inputs, *ASSETS],
        asset_checks=CHECKS,
        jobs=JOBS,
        schedules=SCHEDULES,
        resources={
            "duckdb": make_duckdb(database),
            "lca": LcaResource(
                data_dir=data_dir,
                config_file=config_file,
                imported_dir=imported_dir,
                report_file=str(Path(database).parent / "report.html"),
            ),
        },
        # One DuckDB file takes one writer at a time; runs execute their steps in one process.
        executor=dg.in_process_executor,
    )


# The UI and `dagster definitions validate` read the environment here, never inside assets.
_DB = os.environ.get("LCA_DB", "data/warehouse/lca.duckdb")
defs = build_definitions(
    data_dir=os.environ.get("LCA_DATA_DIR", "data/sample"),
    database=_DB,
    config_file=os.environ.get("LCA_CONFIG") or None,
    imported_dir=os.environ.get("LCA_IMPORTED_DIR") or os.path.join(os.path.dirname(_DB) or ".", "imported"),
)
