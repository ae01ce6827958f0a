"""Asset definitions, one module per layer, gathered here for definitions.py."""

from datetime import timedelta

import dagster as dg

from ..partitions import DAILY
from .checks import CHECKS  # noqa: F401  (re-exported for definitions.py)
from .embodied import EMBODIED_ASSETS
from .factors import FACTOR_ASSETS
from .lifecycle import LIFECYCLE_ASSETS
from .lineage import lineage_asset
from .report import report
from .operational import OPERATIONAL_ASSETS
from .staging import STAGING_ASSETS

_TABLES: list[dg.AssetsDefinition] = [
    *STAGING_ASSETS, *FACTOR_ASSETS, *OPERATIONAL_ASSETS, *EMBODIED_ASSETS, *LIFECYCLE_ASSETS,
]
ASSETS: list[dg.AssetsDefinition] = [*_TABLES, lineage_asset(_TABLES), report]

refresh_job = dg.define_asset_job(
    "lca_refresh",
    selection=dg.AssetSelection.assets(*ASSETS),
    partitions_def=DAILY,
    description="Stage the inputs for a day (or range of days) and rebuild the marts.",
)


@dg.schedule(
    cron_schedule="30 2 * * *",
    job=refresh_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly: refresh yesterday's UTC-day partition and rebuild the marts. Off by default.",
)
def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=day, partition_key=day)


tables_job = dg.define_asset_job(
    "lca_tables",
    selection=dg.AssetSelection.assets(*ASSETS) - dg.AssetSelection.assets(report),
    partitions_def=DAILY,
    description="Like lca_refresh, without drawing the HTML report.",
)

JOBS = [refresh_job, tables_job]
SCHEDULES = [nightly_refresh]
