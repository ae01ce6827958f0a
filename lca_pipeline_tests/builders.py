"""Small hand-made data directories for tests: every number in them is chosen to be checked by hand."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from lca_pipeline.runner import run_pipeline

T0 = datetime(2024, 1, 1)


def ts(minutes: float = 0, hours: float = 0, seconds: float = 0) -> str:
    return (T0 + timedelta(hours=hours, minutes=minutes, seconds=seconds)).isoformat() + "Z"


def write(data: Path, name: str, rows: list[dict]) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"{name}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def base_site(data: Path, *, pue: float = 1.5, wue: float | None = 0.5, ewif: float | None = 2.0,
              gpu_count: int = 2, zone: str = "Z1") -> None:
    write(data, "sites", [{"site": "s1", "zone": zone, "pue": pue, "wue_l_per_kwh": wue, "ewif_l_per_kwh": ewif}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": gpu_count, "gpu_model": "H100-SXM5-80GB"}])


def hourly_grid(data: Path, values: dict[int, float], zone: str = "Z1", basis: str | None = None) -> None:
    rows = [{"zone": zone, "ts": ts(hours=h), "gco2e_per_kwh": v} for h, v in sorted(values.items())]
    if basis:
        for r in rows:
            r["basis"] = basis
    write(data, "grid_intensity", rows)


def constant_power(host: str, gpu: int, watts: float, start_min: float, end_min: float, step_s: float,
                   counter_w: float | None = None) -> list[dict]:
    n = int(round((end_min - start_min) * 60 / step_s))
    rows = []
    for i in range(n + 1):
        t = start_min * 60 + i * step_s
        row = {"ts": ts(seconds=t), "host": host, "gpu": gpu, "power_w": watts}
        if counter_w is not None:
            row["energy_mj"] = counter_w * t * 1000.0
        rows.append(row)
    return rows


def sine_power(step_s: float, hours: float = 1.0) -> list[dict]:
    n = int(round(hours * 3600 / step_s))
    return [
        {"ts": (T0 + timedelta(seconds=i * step_s)).isoformat(timespec="milliseconds") + "Z", "host": "h1", "gpu": 0,
         "power_w": 300.0 + 100.0 * math.sin(2 * math.pi * i * step_s / 600.0)}
        for i in range(n + 1)
    ]


def run(data: Path, tmp: Path, name: str = "lca.duckdb"):
    db = tmp / name
    outcome = run_pipeline(data, db, report=False)  # the report has tests of its own
    return db, outcome


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def scalar(db: Path, sql: str, params: list | None = None):
    return query(db, sql, params)[0][0]
