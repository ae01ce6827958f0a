"""Asset definitions, one module per layer, gathered here for definitions.py."""

import dagster as dg

from ..automation import schedule_for, sensor_for
from ..partitions import DAYS
from .checks import CHECKS  # noqa: F401  (re-exported for definitions.py)
from .embodied import EMBODIED_ASSETS
from .factors import FACTOR_ASSETS
from .lifecycle import LIFECYCLE_ASSETS
from .lineage import lineage_asset
from .operational import OPERATIONAL_ASSETS
from .report import report
from .run import imports, publications_asset, record_failure, runs
from .staging import STAGING_ASSETS

_TABLES: list[dg.AssetsDefinition] = [
    *STAGING_ASSETS, *FACTOR_ASSETS, *OPERATIONAL_ASSETS, *EMBODIED_ASSETS, *LIFECYCLE_ASSETS,
]
_LINEAGE = lineage_asset(_TABLES)
_BUILT = [runs, imports, *_TABLES, _LINEAGE, report]
publications = publications_asset([key for a in _BUILT for key in a.keys])
ASSETS: list[dg.AssetsDefinition] = [*_BUILT, publications]

refresh_job = dg.define_asset_job(
    "lca_refresh",
    selection=dg.AssetSelection.assets(*ASSETS),
    partitions_def=DAYS,
    hooks={record_failure},
    tags={"lca/refresh": "1"},
    description="Stage the inputs for a day (or range of days), rebuild the marts and publish them.",
)

tables_job = dg.define_asset_job(
    "lca_tables",
    selection=dg.AssetSelection.assets(*ASSETS) - dg.AssetSelection.assets(report),
    partitions_def=DAYS,
    hooks={record_failure},
    tags={"lca/refresh": "1"},
    description="Like lca_refresh, without drawing the HTML report.",
)

JOBS = [refresh_job, tables_job]
SCHEDULES = [schedule_for(refresh_job)]
SENSORS = [sensor_for(refresh_job)]
