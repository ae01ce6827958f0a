"""The `lca` command: run, demo, import, collect."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

DEFAULT_DATA = Path("data/sample")
DEFAULT_DB = Path("data/warehouse/lca.duckdb")
EPILOG = """\
examples:
  lca demo                                   generate the sample and run everything on it
  lca run --data DIR --db FILE               refresh from your exports and publish
  lca status                                 last run, published version, freshness
  lca explain --model helios-7b --stage training --date 2024-03-05
  lca report --out report.html

exit codes:
  0  success
  1  error: a bad input, setting or failed asset/check (one line says which; --debug for a traceback)
  2  wrong command-line usage
  3  lca status: the published data is stale, the last run failed or a check fails
  130 interrupted
"""


def _quiet() -> None:
    """Our own progress lines only; Dagster's console output stays at ERROR."""
    warnings.filterwarnings("ignore")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    logging.getLogger("dagster").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    progress = logging.getLogger("lca.progress")
    progress.setLevel(logging.INFO)
    progress.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    progress.handlers[:] = [handler]


def _print_summary(db: Path, outcome) -> None:
    from .runner import summary

    tables = summary(db)
    print(f"\nrun {outcome.run_id}: days {outcome.partition_range[0]}..{outcome.partition_range[1]} "
          f"in {outcome.seconds:.1f} s -> published {db} ({outcome.version}, {len(tables)} tables)")
    passed = sum(ok for _, ok in outcome.checks)
    print(f"  checks: {passed}/{len(outcome.checks)} passed")
    print(f"  manifest: {outcome.manifest}")
    _print_answer(db)


def _print_answer(db: Path) -> None:
    """What users came for: one line per model, and where the report is."""
    from .runner import model_summary

    rows = model_summary(db)
    if rows:
        print("\nper model (location-based, operational + embodied; 90 % interval in brackets):")
        for model, total, p05, p95, per_1000, break_even in rows:
            interval = f"[{p05:,.1f}-{p95:,.1f}]" if p05 is not None and p95 is not None else ""
            per = "-" if per_1000 is None else f"{per_1000:.4g} kg per 1,000 requests"
            be = "-" if break_even is None else f"break-even after {break_even:,.0f} requests"
            print(f"  {model:<20} {total:>10,.1f} kg CO2e {interval:<16} {per:<32} {be}")
    report = db.parent / "report.html"
    if report.exists():
        print(f"report: {report}")


def _days(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    from datetime import date

    first, _, last = value.partition("..")
    try:
        return date.fromisoformat(first).isoformat(), date.fromisoformat(last or first).isoformat()
    except ValueError:
        raise ValueError(f"--days {value!r}: give YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_pipeline

    print(f"lca run: data {args.data} -> {args.db}")
    outcome = run_pipeline(Path(args.data), Path(args.db), Path(args.config) if args.config else None,
                           days=_days(args.days), select=args.select, launcher=f"lca {args.command}",
                           executor=getattr(args, "executor", "in_process"),
                           max_concurrent=getattr(args, "max_concurrent", None))
    _print_summary(Path(args.db), outcome)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .status import render_status, status

    info = status(Path(args.db), stale_after_h=args.stale_after)
    print(render_status(info))
    return 0 if info["ok"] else 3


def cmd_ui(args: argparse.Namespace) -> int:
    import subprocess

    from .runner import dagster_home

    env = {**os.environ, "DAGSTER_HOME": str(dagster_home()), "LCA_DATA_DIR": args.data, "LCA_DB": args.db}
    print(f"dagster dev with DAGSTER_HOME={env['DAGSTER_HOME']} (the instance `lca run` records into)")
    return subprocess.call(["dagster", "dev", "-w", "workspace.yaml"], env=env)


def cmd_demo(args: argparse.Namespace) -> int:
    from .sample import generate_sample

    data = Path(args.data)
    if args.regenerate or not data.is_dir() or not any(data.iterdir()):
        started = time.perf_counter()
        rows = generate_sample(data)
        print(f"generated sample data in {data} ({sum(rows.values())} rows, {time.perf_counter() - started:.1f} s)")
    args.config = None
    return cmd_run(args)


def cmd_import(args: argparse.Namespace) -> int:
    from .importers import import_source

    options: dict = {}
    for item in args.option or []:
        key, _, value = item.partition("=")
        node = options
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    result = import_source(args.kind, Path(args.path), Path(args.data), options)
    for f in result.files:
        outputs = ", ".join(f"{k}: {v}" for k, v in f.outputs.items())
        print(f"{f.source}: {f.rows_in} rows in, {f.rows_out} out ({f.rows_flagged} flagged), "
              f"{f.rows_folded} folded -> {outputs}")
        for note in f.notes:
            print(f"  note: {note}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    import json

    from .explain import explain, render_text

    result = explain(Path(args.db), model=args.model, stage=args.stage, date=args.date, job=args.job,
                     criterion=args.criterion, site=args.site, verify=args.verify)
    print(json.dumps(result, indent=2, sort_keys=True) if args.format == "json" else render_text(result))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    summary = build_report(Path(args.db), Path(args.out))
    missing = f"; not available: {', '.join(summary.unavailable)}" if summary.unavailable else ""
    print(f"wrote {summary.path} ({summary.bytes:,} bytes, {len(summary.sections)} sections, "
          f"{summary.charts} charts{missing})")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from .collector import parse_interval, run_collector

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stats = run_collector(
        Path(args.out),
        parse_interval(args.interval),
        duration_s=parse_interval(args.duration) if args.duration else None,
        host=args.host,
        write=args.write,
    )
    print(f"collected {stats.samples} samples into {len(stats.files)} file(s); {stats.errors} error(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lca", description="Life-cycle assessment of ML models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_run_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", default=str(DEFAULT_DATA), help="data directory (default: data/sample)")
        p.add_argument("--db", default=str(DEFAULT_DB), help="DuckDB file (default: data/warehouse/lca.duckdb)")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")

    run = sub.add_parser(
        "run", help="refresh: ingest a data directory, rebuild every table and publish",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  lca run --data /srv/exports --db /srv/lca/lca.duckdb\n"
               "  lca run --days 2024-03-04..2024-03-05\n  lca run --select marts/model_lifecycle",
    )
    add_run_args(run)
    run.add_argument("--config", help="settings file (default: DATA/lca.toml)")
    run.add_argument("--days", help="only these UTC days: YYYY-MM-DD or FIRST..LAST (default: every day in the data)")
    run.add_argument("--select", action="append",
                     help="only this asset (and what the run always does), e.g. marts/stage_impacts; repeatable")
    run.add_argument("--executor", choices=("in_process", "multiprocess"), default="in_process",
                     help="in_process (default): every step in this process; multiprocess: one process per "
                          "step, telemetry slices in parallel (docs/deployment.md)")
    run.add_argument("--max-concurrent", type=int, help="multiprocess: steps at once (default: CPU count)")
    run.set_defaults(func=cmd_run)

    st = sub.add_parser("status", help="last run, published version and age, telemetry freshness, failing checks")
    st.add_argument("--db", default=str(DEFAULT_DB), help="published DuckDB file (default: data/warehouse/lca.duckdb)")
    st.add_argument("--stale-after", type=float, default=None,
                    help="hours after which the published data counts as stale, exit 3 "
                         "(default: [publish] stale_after_hours of the last run, 36)")
    st.set_defaults(func=cmd_status)

    ui = sub.add_parser("ui", help="the Dagster UI on the instance `lca run` records into")
    add_run_args(ui)
    ui.set_defaults(func=cmd_ui)

    demo = sub.add_parser("demo", help="generate the bundled sample (if absent) and run it")
    add_run_args(demo)
    demo.set_defaults(days=None, select=None)
    demo.add_argument("--regenerate", action="store_true", help="regenerate the sample even if present")
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="convert a real export (KIND) into contract files in --data")
    imp.add_argument("kind", help="nvidia-smi, nvidia-smi-q, dcgm, codecarbon, sacct, electricitymaps, boavizta-pcf")
    imp.add_argument("path", help="file or folder to convert")
    imp.add_argument("--data", required=True, help="data directory to write into")
    imp.add_argument("--option", action="append", help="importer option KEY=VALUE (dotted keys nest)")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("explain", help="decompose one reported number and list what it rests on")
    exp.add_argument("--db", default=str(DEFAULT_DB), help="DuckDB file (default: data/warehouse/lca.duckdb)")
    exp.add_argument("--model", help="model (omit for unallocated capacity)")
    exp.add_argument("--stage", help="life-cycle stage, or unallocated")
    exp.add_argument("--date", help="UTC date, YYYY-MM-DD")
    exp.add_argument("--job", help="one job (overrides model/stage/date)")
    exp.add_argument("--site", help="site (for unallocated rows)")
    exp.add_argument("--criterion", default="operational_co2e_location_kg",
                     help="operational_co2e_location_kg (default), operational_co2e_market_kg, energy_facility_kwh, energy_it_kwh, "
                          "water_onsite_l, water_offsite_l, embodied_co2e_kg")
    exp.add_argument("--format", choices=("text", "json"), default="text")
    exp.add_argument("--verify", action="store_true", help="re-hash the source files on disk and compare")
    exp.set_defaults(func=cmd_explain)

    rep = sub.add_parser("report", help="write the self-contained HTML report")
    rep.add_argument("--db", default=str(DEFAULT_DB), help="DuckDB file (default: data/warehouse/lca.duckdb)")
    rep.add_argument("--out", required=True, help="output HTML file")
    rep.set_defaults(func=cmd_report)

    col = sub.add_parser("collect", help="sample NVIDIA GPUs with NVML into gpu_samples Parquet")
    col.add_argument("--out", required=True, help="output directory")
    col.add_argument("--interval", default="1s", help="sampling interval, e.g. 1s, 500ms (default 1s)")
    col.add_argument("--duration", help="stop after this long (default: until SIGTERM)")
    col.add_argument("--host", help="host name to record (default: short hostname)")
    col.add_argument("--write", choices=("samples", "minutes", "both"), default="samples",
                     help="gpu_samples rows (default), per-GPU per-minute gpu_energy_minutes rows, or both")
    col.set_defaults(func=cmd_collect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line unless --debug: users need the reason, not our stack
        if getattr(args, "debug", False):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"lca {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
