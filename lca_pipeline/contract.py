"""Names and helpers shared across the pipeline: one definition each, imported everywhere else.

docs/data-contract.md is the human-readable form of the input contract; docs/configuration.md
documents the settings that name stages and job states.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

# Dagster owners of every asset (shown in the UI and used for alert routing).
OWNERS = ["team:lca-pipeline"]

# Columns an importer adds to a contract CSV so a staged or quarantined row traces back to its original.
PROVENANCE = ("origin_file", "origin_line", "import_error")

# Life-cycle stages of a job, in life-cycle order ([stages] map targets these).
STAGES = ("data", "experimentation", "training", "post_training", "evaluation", "inference", "other")

# Job states the contract accepts in jobs.state.
JOB_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "PREEMPTED", "RUNNING")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plain(value: Any) -> Any:
    """A DuckDB value as JSON-ready Python: dates as ISO text, decimals as floats, lists element-wise."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
