"""CodeCarbon emissions.csv (every schema version, mixed versions, NULs, CRLF) -> jobs (measured_job).

One emissions.csv row is one tracked run: job_id = run_id (legacy files without run_id:
experiment_id@timestamp), start = timestamp - duration, end = timestamp, energy_kwh =
energy_consumed, with the CPU/GPU/RAM split and CodeCarbon's own emissions kept as comparison
columns. Files are small (one row per run), so this is plain Python.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..contract import PROVENANCE
from .common import (
    FileContext,
    ImportedFile,
    ImporterError,
    apply_rules,
    compile_rules,
    fmt_utc,
    join_errors,
    parse_utc,
    tz_name,
    unique_ids,
    write_primary,
)

KIND = "codecarbon"

# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("timezone", "rules", "site")
OUT_COLUMNS = (
    "job_id", "model", "stage", "state", "start", "end", "project", "site", "energy_kwh",
    "cpu_energy_kwh", "gpu_energy_kwh", "ram_energy_kwh", "codecarbon_emissions_kg",
    "codecarbon_version", "country_iso_code", "gpu_model", "gpu_count", "cpu_model", "duration_s", "tier",
) + PROVENANCE
RULE_FIELDS = ("project_name", "experiment_id", "run_id")

# plausibility limits for CodeCarbon's average power columns (W)
MAX_GPU_W_PER_GPU = 1500.0
MAX_CPU_W_FLOOR = 500.0
MAX_CPU_W_PER_THREAD = 25.0
MAX_RAM_W = 2000.0


def _float(v: Any) -> float | None:
    if v is None:
        return None
    s = str(v).strip()
    if not s:
        return None
    try:
        x = float(s)
    except ValueError:
        return None
    return x if x == x and abs(x) != float("inf") else None


def _int_text(v: Any) -> str | None:
    x = _float(v)
    if x is None:
        return None
    return str(int(x)) if x.is_integer() else str(x)


def _is_header(row: list[str]) -> bool:
    names = {c.strip().lower() for c in row}
    return "timestamp" in names and ("energy_consumed" in names or "duration" in names)


def _concatenated(model: str | None) -> bool:
    """CodeCarbon joins heterogeneous GPUs without a separator: '1 x GPU A1 x GPU B' (the A's model number runs into B's count)."""
    return bool(model) and model.count(" x ") > 1


def _gpus_in_model(model: str | None) -> int | None:
    """The leading 'N x ' count of gpu_model; None when absent or ambiguous (concatenated names)."""
    if not model or _concatenated(model):
        return None
    m = re.match(r"^\s*(\d+) x ", model)
    return int(m.group(1)) if m else None


def run(ctx: FileContext) -> ImportedFile:
    """Read the rows (every schema version), give each a job id, normalise it, write jobs."""
    rec = ctx.record
    opts = _options(ctx)
    parsed = _read_file(ctx)
    if parsed is None:
        rec.notes.append("empty file; nothing written")
        return rec
    header, records = parsed
    rec.rows_in = len(records)
    if not records:
        rec.notes.append("no data rows; nothing written")
        return rec
    ids = _job_ids(ctx, header, records)
    stats = _Stats()
    rows = [_normalise(ctx, opts, line, f, shape_err, job_id, stats)
            for (line, f, shape_err), job_id in zip(records, ids)]
    _write(ctx, opts, rows, stats)
    return rec


@dataclass(frozen=True)
class _Options:
    tz: str
    rules: list[dict]
    site: str | None


def _options(ctx: FileContext) -> _Options:
    tz = tz_name(ctx.options)
    rules = compile_rules(ctx.options.get("rules"), RULE_FIELDS, "project_name", "codecarbon")
    site = str(ctx.options["site"]) if ctx.options.get("site") else None
    return _Options(tz, rules, site)


def _read_file(ctx: FileContext) -> tuple[list[str], list[tuple[int, dict[str, str], str | None]]] | None:
    """The header and rows, NUL bytes removed; None for an empty file."""
    raw = ctx.path.read_bytes()
    nuls = raw.count(b"\x00")
    if nuls:
        ctx.note(f"{nuls} NUL bytes removed")
        raw = raw.replace(b"\x00", b"")
    text = raw.decode("utf-8-sig", errors="replace")
    old_limit = csv.field_size_limit(1 << 30)  # a corrupt line can hold one huge field
    try:
        return _read(ctx, text)
    finally:
        csv.field_size_limit(old_limit)


def _job_ids(ctx: FileContext, header: list[str], records: list[tuple[int, dict[str, str], str | None]]) -> list[str]:
    """run_id, or experiment_id@timestamp in legacy files; duplicates made unique, missing ones from the line."""
    ids_raw: list[str | None] = []
    for line, f, _ in records:
        run_id = f.get("run_id") or None
        if run_id:
            ids_raw.append(run_id)
        elif "run_id" not in f:
            key = f.get("experiment_id") or f.get("project_name") or "codecarbon"
            ids_raw.append(f"{key}@{f.get('timestamp', '')}" if f.get("timestamp") else None)
        else:
            ids_raw.append(None)
    if "run_id" not in header:
        ctx.note("no run_id column (legacy schema): job_id = experiment_id@timestamp")
    ids, changed = unique_ids(ids_raw, lambda i: f"{ctx.path.stem}:{records[i][0]}")
    if changed:
        ctx.note(f"{changed} duplicate job id(s) made unique with a '#n' suffix in file order")
    missing_ids = sum(1 for x in ids_raw if not x)
    if missing_ids:
        ctx.note(f"{missing_ids} row(s) without run_id: job_id = <file stem>:<line>")
    return ids


@dataclass
class _Stats:
    """What the notes report over all rows."""

    versions: Counter[str] = field(default_factory=Counter)
    gpu_disagree: int = 0
    concatenated: set[str] = field(default_factory=set)
    flagged: int = 0


def _value_errors(f: dict[str, str], ts, duration: float | None, energy: float | None) -> list[str]:
    errs = []
    if ts is None:
        errs.append(f"timestamp '{f.get('timestamp', '')}' not understood")
    if duration is None:
        errs.append(f"duration '{f.get('duration', '')}' is not a number")
    elif duration < 0:
        errs.append(f"negative duration {duration}")
    if energy is None:
        errs.append(f"energy_consumed '{f.get('energy_consumed', '')}' is not a number")
    elif energy < 0:
        errs.append(f"negative energy_consumed {energy}")
    return errs


def _power_errors(f: dict[str, str], n_gpus: int) -> list[str]:
    """CodeCarbon's average power columns outside physical limits (a sign of a corrupt row)."""
    errs = []
    gpu_w = _float(f.get("gpu_power"))
    cpu_w = _float(f.get("cpu_power"))
    ram_w = _float(f.get("ram_power"))
    cpu_threads = _float(f.get("cpu_count")) or 0
    cpu_limit = max(MAX_CPU_W_FLOOR, MAX_CPU_W_PER_THREAD * cpu_threads)
    if gpu_w is not None and (gpu_w < 0 or gpu_w > MAX_GPU_W_PER_GPU * n_gpus):
        errs.append(f"implausible gpu_power {gpu_w:g} W for {n_gpus} GPU(s) (limit {MAX_GPU_W_PER_GPU:g} W per GPU)")
    if cpu_w is not None and (cpu_w < 0 or cpu_w > cpu_limit):
        errs.append(
            f"implausible cpu_power {cpu_w:g} W for {int(cpu_threads)} CPU thread(s) (limit {cpu_limit:g} W)"
        )
    if ram_w is not None and (ram_w < 0 or ram_w > MAX_RAM_W):
        errs.append(f"implausible ram_power {ram_w:g} W (limit {MAX_RAM_W:g} W)")
    return errs


def _gpus(f: dict[str, str], stats: _Stats) -> int:
    """GPU count for the power limit: gpu_count or the 'N x' in gpu_model, at least 1."""
    gpu_count = _float(f.get("gpu_count"))
    gpu_model = f.get("gpu_model") or None
    in_model = _gpus_in_model(gpu_model)
    if gpu_model and in_model is not None and gpu_count is not None and int(gpu_count) != in_model:
        stats.gpu_disagree += 1
    if _concatenated(gpu_model):
        stats.concatenated.add(gpu_model)
    return max(int(gpu_count or 0), in_model or 0, 1)


def _model_stage(rules: list[dict], f: dict[str, str]) -> tuple[str | None, str]:
    project = f.get("project_name") or None
    mapped = apply_rules(rules, {k: f.get(k) for k in RULE_FIELDS})
    if mapped is None:
        return project, "other"
    model, stage = mapped
    return (model if model is not None else project), (stage or "other")


def _normalise(ctx: FileContext, opts: _Options, line: int, f: dict[str, str], shape_err: str | None,
               job_id: str, stats: _Stats) -> tuple:
    """One contract jobs row (tier measured_job) for one tracked run."""
    ts = parse_utc(f.get("timestamp"), opts.tz)
    duration = _float(f.get("duration"))
    energy = _float(f.get("energy_consumed"))
    errs = [shape_err, *_value_errors(f, ts, duration, energy), *_power_errors(f, _gpus(f, stats))]
    version = f.get("codecarbon_version") or None
    stats.versions[version or "not recorded"] += 1
    model, stage = _model_stage(opts.rules, f)
    start = ts - timedelta(seconds=duration) if ts is not None and duration is not None and duration >= 0 else None
    error = join_errors(*errs)
    stats.flagged += error is not None
    return (
        job_id, model, stage, "COMPLETED", fmt_utc(start), fmt_utc(ts), f.get("project_name") or None, opts.site,
        energy, _float(f.get("cpu_energy")), _float(f.get("gpu_energy")), _float(f.get("ram_energy")),
        _float(f.get("emissions")), version, f.get("country_iso_code") or None, f.get("gpu_model") or None,
        _int_text(f.get("gpu_count")), f.get("cpu_model") or None, duration, "measured_job",
        ctx.origin, line, error,
    )


def _write(ctx: FileContext, opts: _Options, rows: list[tuple], stats: _Stats) -> None:
    write_primary(ctx, "jobs", OUT_COLUMNS, rows, stats.flagged)
    ctx.note("versions: " + ", ".join(f"{v} ({n} rows)" for v, n in sorted(stats.versions.items())))
    if stats.gpu_disagree:
        ctx.note(f"{stats.gpu_disagree} row(s) where gpu_count disagrees with the 'N x' count in gpu_model (kept as given)")
    for m in sorted(stats.concatenated):
        ctx.note(f"gpu_model {m!r} looks like several GPU names run together; kept as given")
    if not opts.rules:
        ctx.note("no codecarbon.rules: model = project_name, stage = other")
    if opts.tz == "UTC":
        ctx.note("timestamps have no UTC offset; taken as UTC (CodeCarbon writes local time: set option timezone)")
    ctx.note("codecarbon_emissions_kg is CodeCarbon's own estimate, kept for comparison only")


def _read(ctx: FileContext, text: str) -> tuple[list[str], list[tuple[int, dict[str, str], str | None]]] | None:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str], str | None]] = []  # (line, fields, error)
    prev_end = 0
    headers_seen = 0
    for row in reader:
        start_line = prev_end + 1
        prev_end = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue  # blank line: not a data row
        if header is None:
            if not _is_header(row):
                raise ImporterError(
                    f"{ctx.path}: line {start_line} is not a CodeCarbon emissions.csv header "
                    "(expected columns timestamp, ..., duration, emissions, energy_consumed)"
                )
            header = [c.strip().lower() for c in row]
            headers_seen = 1
            continue
        if _is_header(row):
            header = [c.strip().lower() for c in row]
            headers_seen += 1
            continue
        err = None
        if len(row) != len(header):
            err = f"row has {len(row)} fields, header has {len(header)}"
        records.append((start_line, dict(zip(header, (c.strip() for c in row))), err))
    if header is None:
        return None
    if headers_seen > 1:
        ctx.note(f"{headers_seen - 1} further header line(s) (schema change) inside the file; not data rows")
    return header, records
