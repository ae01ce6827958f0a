"""The run log: one JSON line per event of every refresh, beside the published database.

Failed and killed refreshes never publish, so their record cannot live in the published database;
the log keeps it. Appends of one short line are atomic, so launchers, steps and `lca status` can
share the file without locks. The published database's `audit.runs` is rebuilt from it.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FIELDS = ("run_id", "started_at", "ended_at", "status", "failure", "partition_range", "launcher",
          "pid", "host", "package_version", "git_describe", "settings_hash", "settings_source",
          "settings_json", "data_dir", "version", "checks_failed")


def log_path(published: Path) -> Path:
    return Path(published).with_suffix(".runs.jsonl")


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def append(published: Path, event: str, run_id: str, **fields: Any) -> None:
    record = {"event": event, "run_id": run_id, "at": now_utc().isoformat(), **fields}
    path = log_path(published)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return True  # another machine's run: only its own host can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs(published: Path) -> list[dict[str, Any]]:
    """Every run, oldest first, folded from its events: running, success, failure or abandoned."""
    path = log_path(published)
    if not path.is_file():
        return []
    by_id: dict[str, dict[str, Any]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            e = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a line cut by a crash mid-write
        run = by_id.setdefault(e["run_id"], {"run_id": e["run_id"], "status": "running", "checks_failed": []})
        kind = e.pop("event")
        at = e.pop("at")
        if kind == "started":
            run.update(e, started_at=at)
        elif kind == "check" and not e.get("passed"):
            run["checks_failed"] = sorted(set(run["checks_failed"]) | {e["check"]})
        elif kind == "failed" and run["status"] in ("running", "abandoned"):
            run.update(status="failure", ended_at=at, failure=e.get("failure"))
        elif kind == "published":
            run.update(status="success", ended_at=at, version=e.get("version"))
        elif kind == "abandoned" and run["status"] == "running":
            run.update(status="abandoned", ended_at=at, failure=e.get("failure"))
    out = sorted(by_id.values(), key=lambda r: (r.get("started_at") or "", r["run_id"]))
    for run in out:
        if run["status"] == "running" and not _alive(run.get("pid"), run.get("host")):
            run["status"] = "abandoned"
            run["failure"] = f"process {run.get('pid')} on {run.get('host')} is gone"
    return out


def mark_abandoned(published: Path) -> list[str]:
    """Record every run still `running` whose process is gone as abandoned; returns their ids."""
    gone = [r for r in runs(published) if r["status"] == "abandoned" and not r.get("ended_at")]
    for r in gone:
        append(published, "abandoned", r["run_id"], failure=r["failure"])
    return [r["run_id"] for r in gone]


def running(published: Path) -> list[dict[str, Any]]:
    return [r for r in runs(published) if r["status"] == "running"]
