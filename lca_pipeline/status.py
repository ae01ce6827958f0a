"""`lca status`: the last run, the published version and its age, telemetry freshness, failing checks."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import runlog, sql
from .publish import published_versions
from .resources import read_published

sql.register("audit/status_newest_telemetry")


def status(db: Path, stale_after_h: float | None = None) -> dict[str, Any]:
    """Everything `lca status` prints, as a dict; `ok` is False when something needs attention.

    The staleness limit is `stale_after_h`, else `[publish] stale_after_hours` of the last run."""
    db = Path(db).resolve()
    runs = runlog.runs(db)
    if stale_after_h is None:
        recorded = next((r.get("settings_json") for r in reversed(runs) if r.get("settings_json")), None)
        stale_after_h = float(json.loads(recorded).get("stale_after_hours", 36.0)) if recorded else 36.0
    last = runs[-1] if runs else None
    last_success = next((r for r in reversed(runs) if r["status"] == "success"), None)
    info: dict[str, Any] = {"db": str(db), "last_run": last, "last_success": last_success, "problems": []}
    if not db.is_file():
        info["problems"].append(f"nothing published at {db}: run `lca run`")
        info["ok"] = False
        return info
    age_h = (datetime.now(timezone.utc).timestamp() - os.stat(db).st_mtime) / 3600
    info["published"] = {
        "version": last_success.get("version") if last_success else None,
        "age_h": round(age_h, 2),
        "versions_kept": len(published_versions(db)),
    }
    with read_published(db) as conn:
        has = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'intermediate' "
            "AND table_name = 'telemetry_energy_hourly'").fetchall()[0][0]
        info["newest_telemetry"] = (
            [dict(site=s, hour=h.isoformat() if h else None) for s, h in
             sql.execute(conn, "audit/status_newest_telemetry").fetchall()] if has else [])
    if age_h > stale_after_h:
        info["problems"].append(f"published data is {age_h:.1f} h old (more than {stale_after_h:g} h)")
    if last and last["status"] in ("failure", "abandoned"):
        info["problems"].append(f"last run {last['run_id']} {last['status']}: {last.get('failure')}")
    failing = (last_success or {}).get("checks_failed") or []
    if last and last["status"] != "success":
        failing = sorted(set(failing) | set(last.get("checks_failed") or []))
    if failing:
        info["problems"].append(f"failing checks: {', '.join(failing)}")
    info["failing_checks"] = failing
    info["ok"] = not info["problems"]
    return info


def render_status(info: dict[str, Any]) -> str:
    lines = [f"warehouse: {info['db']}"]
    last = info.get("last_run")
    if last:
        lines.append(f"last run:  {last['run_id']} {last['status']} (started {last.get('started_at')}, "
                     f"ended {last.get('ended_at') or '-'}, days {last.get('partition_range') or '-'}, "
                     f"by {last.get('launcher') or '-'})")
        if last.get("failure"):
            lines.append(f"           failed at {last['failure']}")
    else:
        lines.append("last run:  none recorded")
    pub = info.get("published")
    if pub:
        lines.append(f"published: {pub['version'] or '(version unknown)'}, {pub['age_h']:.1f} h old, "
                     f"{pub['versions_kept']} version(s) kept")
    for row in info.get("newest_telemetry", []):
        lines.append(f"telemetry: site {row['site']}: newest hour {row['hour']}")
    lines += [f"PROBLEM:   {p}" for p in info["problems"]] or ["status:    ok"]
    return "\n".join(lines)
