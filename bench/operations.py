"""Operations benchmark: analysts reading while the refresh runs, and refreshes killed with -9.

    python bench/operations.py [--out DIR] [--refreshes 3] [--kills 6] [--days 3] [--interval-s 10]

1. Readers: a process querying the published marts every 0.2 s, and one holding a single read-only
   connection for the whole study, across N consecutive refreshes (each changes a site's PUE so the
   totals move). Counts reader errors, checks every answer equals the totals of a published version
   (before or after a refresh) and compares each refresh's time with the same refresh without readers.
2. Kills: `lca run` killed with SIGKILL at K moments spread over a clean refresh's duration. After
   each: the published database opens and its marts are unchanged. Then one refresh must succeed and
   give marts byte-identical to a clean run in a separate folder.

Prints progress lines, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lca_pipeline import runlog  # noqa: E402
from lca_pipeline.manifest import output_checksums  # noqa: E402
from lca_pipeline.sample import generate_sample  # noqa: E402

TOTALS = ("SELECT count(*), round(sum(energy_it_kwh), 9), round(sum(operational_co2e_location_kg), 9) "
          "FROM marts.stage_impacts")


def lca(args: list[str], env: dict) -> tuple[int, float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lca_pipeline.cli", *args], env=env, cwd=REPO,
                         capture_output=True, text=True)
    return out.returncode, time.perf_counter() - started, out.stdout + out.stderr


def poller(db: str, stop, results, active) -> None:
    """The analyst: a new connection every 0.2 s, one query, close (while `active` is set)."""
    answers, errors = [], []
    while not stop.is_set():
        if not active.is_set():
            time.sleep(0.05)
            continue
        try:
            with duckdb.connect(db, read_only=True) as conn:
                answers.append(tuple(conn.execute(TOTALS).fetchone()))
        except Exception as exc:  # every failure counts: that is what this measures
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        time.sleep(0.2)
    results.put({"who": "poll", "answers": answers, "errors": errors})


def holder(db: str, stop, results) -> None:
    """The analyst who opened one connection in the morning and keeps it."""
    answers, errors = [], []
    try:
        conn = duckdb.connect(db, read_only=True)
        while not stop.is_set():
            answers.append(tuple(conn.execute(TOTALS).fetchone()))
            time.sleep(1.0)
        conn.close()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:200])
    results.put({"who": "hold", "answers": answers, "errors": errors})


def bump_pue(data: Path, step: int) -> None:
    sites = data / "sites.csv"
    lines = sites.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("pue")
    cells = lines[1].split(",")
    cells[col] = f"{1.1 + 0.01 * step:.2f}"
    lines[1] = ",".join(cells)
    sites.write_text("\n".join(lines) + "\n")


def published_totals(db: Path) -> tuple:
    with duckdb.connect(str(db), read_only=True) as conn:
        return tuple(conn.execute(TOTALS).fetchone())


def marts(db: Path) -> dict:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {k: v for k, v in output_checksums(conn).items() if k.startswith("marts.")}


def study_readers(data: Path, work: Path, env: dict, refreshes: int) -> dict:
    """Refreshes alternate without and with the polling analyst, so background load hits both alike;
    the holder keeps one connection open across all of them."""
    db = work / "readers" / "lca.duckdb"
    args = ["run", "--data", str(data), "--db", str(db)]
    rc, _, out = lca(args, env)
    assert rc == 0, out
    valid = {published_totals(db)}  # every version ever published, read right after its refresh
    ctx = mp.get_context("spawn")
    stop, results, active = ctx.Event(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=poller, args=(str(db), stop, results, active)),
             ctx.Process(target=holder, args=(str(db), stop, results))]
    for p in procs:
        p.start()
    time.sleep(1.0)
    quiet, loaded, codes = [], [], []
    for i in range(refreshes):
        active.clear()
        bump_pue(data, 2 * i + 1)
        rc, seconds, out = lca(args, env)
        assert rc == 0, out
        valid.add(published_totals(db))
        quiet.append(seconds)
        active.set()
        time.sleep(0.5)
        bump_pue(data, 2 * i + 2)
        rc, seconds2, out = lca(args, env)
        valid.add(published_totals(db))
        codes.append(rc)
        loaded.append(seconds2)
        print(f"  refresh {i + 1}: {seconds:.1f} s without the polling reader, {seconds2:.1f} s with it "
              f"(exit {rc})", flush=True)
    time.sleep(1.0)
    stop.set()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    by = {g["who"]: g for g in got}
    poll, hold = by["poll"], by["hold"]
    foreign = [a for a in poll["answers"] + hold["answers"] if a not in valid]
    ratios = [b / a for a, b in zip(quiet, loaded)]
    return {
        "readers_refresh_exit_codes": codes,
        "readers_refresh_s_without": [round(s, 2) for s in quiet],
        "readers_refresh_s_with": [round(s, 2) for s in loaded],
        "readers_ratio_max": round(max(ratios), 3),
        "readers_queries": len(poll["answers"]) + len(hold["answers"]),
        "readers_errors": len(poll["errors"]) + len(hold["errors"]),
        "readers_error_samples": (poll["errors"] + hold["errors"])[:3],
        "readers_answers_not_a_published_version": len(foreign),
        "readers_distinct_answers": len(set(poll["answers"])),
        "holder_saw_one_version": len(set(hold["answers"])) == 1,
    }


def study_kills(data: Path, work: Path, env: dict, kills: int) -> dict:
    db = work / "kills" / "lca.duckdb"
    args = ["run", "--data", str(data), "--db", str(db)]
    rc, clean_s, out = lca(args, env)
    assert rc == 0, out
    reference = marts(db)
    outcomes = []
    for i in range(1, kills + 1):
        at = clean_s * i / (kills + 1)
        proc = subprocess.Popen([sys.executable, "-m", "lca_pipeline.cli", *args], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(at)
        finished = proc.poll() is not None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            # The run ended before its moment (a later run can be faster than the clean one it is
            # timed against: unchanged small inputs are not staged again).
            finished = True
        proc.wait()
        try:
            same = marts(db) == reference
            opened = True
        except Exception:
            same, opened = False, False
        outcomes.append({"at_s": round(at, 2), "finished_before_kill": finished, "published_opens": opened,
                         "marts_unchanged": same})
        print(f"  kill -9 at {at:.1f} s: opens={opened} unchanged={same}", flush=True)
    rc, _, out = lca(args, env)
    clean = work / "kills-clean" / "lca.duckdb"
    rc2, _, out2 = lca(["run", "--data", str(data), "--db", str(clean)], env)
    identical = rc == 0 and rc2 == 0 and marts(db) == marts(clean)
    status = lca(["status", "--db", str(db)], env)[2]
    return {
        "kills": outcomes,
        "kills_all_published_open": all(o["published_opens"] for o in outcomes),
        "kills_all_marts_unchanged": all(o["marts_unchanged"] for o in outcomes),
        "kills_next_refresh_exit": rc,
        "kills_next_refresh_identical_to_clean": identical,
        "kills_runs_recorded_abandoned": sum(r["status"] == "abandoned" for r in runlog.runs(db)),
        "status_after": status.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "operations"))
    parser.add_argument("--refreshes", type=int, default=3)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--interval-s", type=int, default=10)
    args = parser.parse_args()
    work = Path(args.out).resolve()
    if work.exists():
        import shutil

        shutil.rmtree(work)
    work.mkdir(parents=True)
    data = work / "data"
    generate_sample(data, days=args.days, interval_s=args.interval_s)
    env = {**os.environ, "DAGSTER_HOME": str(work / "dagster_home"), "PYTHONPATH": str(REPO)}
    print(f"operations benchmark in {work} ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})", flush=True)
    result = {"days": args.days, "interval_s": args.interval_s}
    result.update(study_readers(data, work, env, args.refreshes))
    result.update(study_kills(data, work, env, args.kills))
    result["targets_met"] = {
        "readers_no_errors": result["readers_errors"] == 0,
        "readers_answers_are_versions": result["readers_answers_not_a_published_version"] == 0,
        "readers_refresh_exit_0": all(c == 0 for c in result["readers_refresh_exit_codes"]),
        "readers_ratio_le_1_5": result["readers_ratio_max"] <= 1.5,
        "kills_published_intact": result["kills_all_published_open"] and result["kills_all_marts_unchanged"],
        "kills_next_refresh_identical": result["kills_next_refresh_identical_to_clean"],
    }
    result["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
