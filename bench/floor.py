"""The hardware floor: ONE DuckDB query over the same Parquet, energy per (host, gpu, hour).

    python bench/floor.py DATA_DIR [--threads N] [--memory-limit 4GB]

Trapezoid over consecutive samples of a GPU (lag over ts), grouped by the hour of the interval's
start, no checks, no quarantine, no audit: the least work any tool must do to get GPU-hour energy
from these files. Prints one JSON line: seconds, rows in, rows out, total kWh.
"""

from __future__ import annotations

import argparse
import json
import time

import duckdb

QUERY = """
CREATE TABLE floor AS
SELECT host, gpu, date_trunc('hour', t0) AS hour_start, sum(kwh) AS energy_kwh, count(*) AS intervals
FROM (
    SELECT
        host, gpu,
        lag(ts) OVER w AS t0,
        (lag(power_w) OVER w + power_w) / 2 * date_diff('microsecond', lag(ts) OVER w, ts) / 1e6 / 3.6e6 AS kwh
    FROM read_parquet($glob)
    WINDOW w AS (PARTITION BY host, gpu ORDER BY ts)
)
WHERE t0 IS NOT NULL
GROUP BY ALL
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--memory-limit")
    args = ap.parse_args()
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")
    if args.threads:
        conn.execute(f"SET threads = {args.threads}")
    if args.memory_limit:
        conn.execute(f"SET memory_limit = '{args.memory_limit}'")
    glob = f"{args.data}/gpu_samples/**/*.parquet"
    started = time.perf_counter()
    conn.execute(QUERY, {"glob": glob})
    seconds = time.perf_counter() - started
    rows_out, intervals, kwh = conn.execute("SELECT count(*), sum(intervals), sum(energy_kwh) FROM floor").fetchone()
    rows_in = conn.execute("SELECT count(*) FROM read_parquet($glob)", {"glob": glob}).fetchone()[0]
    print(json.dumps({"seconds": round(seconds, 3), "rows_in": rows_in, "rows_out": rows_out,
                      "intervals": intervals, "energy_kwh": kwh,
                      "threads": conn.execute("SELECT current_setting('threads')").fetchone()[0]}))


if __name__ == "__main__":
    main()
