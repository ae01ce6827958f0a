"""Automation that follows the data: a sensor for new or changed input files, and the nightly schedule."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from .ingest import discover
from .inputs import INPUTS
from .partitions import TELEMETRY_INPUTS, data_days, day_key, register_days
from .resources import LcaResource


def input_files(lca: LcaResource) -> dict[str, tuple[str, str]]:
    """Every file of the data directory: path -> (input name or importer kind, size:mtime identity).

    Only the data directory: importer output in the work area is rewritten by every run and would
    make the sensor request a run after each run."""
    from .importers import detect_kind_folders

    root = lca.data_root()
    found = [(name, p) for name in INPUTS for p in discover([root], name)]
    found += [(kind, p) for kind, folder in detect_kind_folders(root) for p in sorted(folder.rglob("*")) if p.is_file()]
    out = {}
    for name, path in found:
        st = path.stat()
        out[str(path)] = (name, f"{st.st_size}:{st.st_mtime_ns}")
    return out


def _ranges(days: list[str]) -> list[tuple[str, str]]:
    """Contiguous runs of sorted day keys, so one request covers each run of days."""
    out: list[tuple[str, str]] = []
    for key in sorted(days):
        if out and date.fromisoformat(key) == date.fromisoformat(out[-1][1]) + timedelta(days=1):
            out[-1] = (out[-1][0], key)
        else:
            out.append((key, key))
    return out


def run_requests(days: list[str], reason: str) -> list[dg.RunRequest]:
    requests = []
    for start, end in _ranges(days):
        key = hashlib.sha256(f"{start}..{end}:{reason}".encode()).hexdigest()[:12]
        tags = {"lca/launcher": "sensor" if "file" in reason else "schedule"}
        if start == end:
            requests.append(dg.RunRequest(run_key=f"{start}:{key}", partition_key=start, tags=tags))
        else:
            requests.append(dg.RunRequest(run_key=f"{start}..{end}:{key}", tags={
                **tags, "dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}))
    return requests


def sensor_for(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="input_files",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests the day partitions whose telemetry files arrived or changed (late data too).",
    )
    def input_files_sensor(context: dg.SensorEvaluationContext, lca: LcaResource) -> dg.SensorResult:
        before: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        now = input_files(lca)
        changed = [p for p, (_, ident) in now.items() if before.get(p) != ident]
        removed = [p for p in before if p not in now]
        cursor = json.dumps({p: ident for p, (_, ident) in sorted(now.items())})
        if not changed and not removed:
            return dg.SensorResult(skip_reason="no input file arrived or changed", cursor=cursor)
        telemetry = [Path(p) for p in changed if now[p][0] in TELEMETRY_INPUTS]
        days = {day_key(d) for d in data_days([lca.data_root()], telemetry, lca.settings().data_window())}
        if not days:
            # Only unpartitioned inputs changed (jobs, sites, grid...): one run over the newest day
            # rebuilds every table that reads them.
            have = register_days(context.instance, data_days(lca.data_dirs(), window=lca.settings().data_window()))
            days = set(have[-1:])
        else:
            register_days(context.instance, {date.fromisoformat(d) for d in days})
        digest = hashlib.sha256(cursor.encode()).hexdigest()[:8]
        return dg.SensorResult(run_requests=run_requests(sorted(days), f"files {digest}"), cursor=cursor)

    return input_files_sensor


def schedule_for(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_refresh",
        cron_schedule="30 2 * * *",
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Nightly: yesterday's UTC day plus any day whose telemetry changed since the last night.",
    )
    def nightly_refresh(context: dg.ScheduleEvaluationContext, lca: LcaResource) -> list[dg.RunRequest]:
        tick = context.scheduled_execution_time
        yesterday = (tick - timedelta(days=1)).date()
        since = (tick - timedelta(days=1)).timestamp()
        late = [Path(p) for p, (name, _) in input_files(lca).items()
                if name in TELEMETRY_INPUTS and Path(p).stat().st_mtime >= since]
        # Yesterday is requested even without files: the fleet should have reported, and the
        # freshness check then fails instead of the night passing silently.
        days = {yesterday} | data_days(lca.data_dirs(), late, lca.settings().data_window())
        register_days(context.instance, days)
        return run_requests(sorted(day_key(d) for d in days), f"night {tick.date()}")

    return nightly_refresh
