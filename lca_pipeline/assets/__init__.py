"""Asset definitions, one module per layer, gathered here for definitions.py."""

from __future__ import annotations

import dagster as dg

from .staging import STAGING_ASSETS

ASSETS: list[dg.AssetsDefinition] = [*STAGING_ASSETS]
CHECKS: list[dg.AssetChecksDefinition] = []
JOBS: list = []
SCHEDULES: list = []
