"""vLLM serving metrics (Prometheus text exposition, `curl host:8000/metrics`) -> inference_usage.

A data row is a sample line of one of the three counters the contract needs:

    vllm:request_success_total{finished_reason="stop",model_name="m"} 1234.0 [timestamp_ms]
    vllm:prompt_tokens_total{model_name="m"} 567890.0 [timestamp_ms]
    vllm:generation_tokens_total{model_name="m"} 123456.0 [timestamp_ms]

Counters are cumulative since the server process started, so usage is the increase between
consecutive scrapes of one series (model_name and the other labels but finished_reason, which is
summed); a counter that goes down was reset (restart) and counts from 0 again. The first scrape of a
series counts from 0 (the process start), unless option `baseline = true` makes it only a baseline.
Each increase goes to the UTC day of the later scrape; one inference_usage row per (model, day) folds
every line behind it. A scrape is the set of lines with one sample timestamp; lines without a
timestamp take option `ts`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timezone

from .common import PROVENANCE, FileContext, ImportedFile, ImporterError, fmt_utc, parse_utc, tz_name, write_rows

OUT_COLUMNS = ("model", "date", "requests", "tokens_in", "tokens_out") + PROVENANCE
OPTIONS: tuple[str, ...] = ("ts", "timezone", "baseline")
KIND = "vllm"

METRICS = {
    "vllm:request_success_total": "requests",
    "vllm:prompt_tokens_total": "tokens_in",
    "vllm:generation_tokens_total": "tokens_out",
}
_SAMPLE = re.compile(r"^\s*(vllm:[A-Za-z0-9_:]+)(\{[^}]*\})?\s+(\S+)(?:\s+(-?[0-9]+))?\s*$")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _bool(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def run(ctx: FileContext) -> ImportedFile:
    rec = ctx.record
    opts = ctx.options
    ts_opt = opts.get("ts")
    fallback: datetime | None = None
    if ts_opt is not None:
        fallback = parse_utc(str(ts_opt), tz_name(opts))
        if fallback is None:
            raise ImporterError(f"{ctx.path}: option ts={ts_opt!r} is not an ISO timestamp (e.g. 2026-03-20T12:00:00Z)")
    baseline = _bool(opts.get("baseline", False))

    # (series, metric) -> {scrape time: (value, first line)}; series = model + labels but finished_reason
    points: dict[tuple[str, str, str], dict[datetime, list]] = defaultdict(dict)
    flagged: list[tuple[int, str, str]] = []  # (line, model or "", reason)
    text = ctx.path.read_text(encoding="utf-8", errors="replace").splitlines()
    for lineno, line in enumerate(text, start=1):
        m = _SAMPLE.match(line)
        if not m or m.group(1) not in METRICS:
            continue
        rec.rows_in += 1
        labels = dict(_LABEL.findall(m.group(2) or ""))
        model = labels.pop("model_name", "") or ""
        labels.pop("finished_reason", None)
        series = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        try:
            value = float(m.group(3))
        except ValueError:
            flagged.append((lineno, model, f"{m.group(1)} value {m.group(3)!r} is not a number"))
            continue
        when = datetime.fromtimestamp(int(m.group(4)) / 1000.0, tz=timezone.utc) if m.group(4) else fallback
        if when is None:
            flagged.append((lineno, model, "no timestamp on the sample; pass --option ts=... (the time of the scrape)"))
            continue
        if not model:
            flagged.append((lineno, model, "no model_name label"))
            continue
        slot = points[(model, series, METRICS[m.group(1)])].setdefault(when, [0.0, lineno])
        slot[0] += value  # request_success_total: summed over finished_reason

    usage: dict[tuple[str, str], dict] = {}
    for (model, _series, measure), scrapes in sorted(points.items()):
        previous: float | None = None
        for when in sorted(scrapes):
            value, lineno = scrapes[when]
            if previous is None:
                delta = 0.0 if baseline else value
            else:
                delta = value - previous if value >= previous else value  # a drop is a counter reset
            previous = value
            day = when.date().isoformat()
            row = usage.setdefault((model, day), {"requests": 0.0, "tokens_in": 0.0, "tokens_out": 0.0,
                                                  "line": lineno, "seen": set()})
            row[measure] += delta
            row["seen"].add(measure)
            row["line"] = min(row["line"], lineno)

    rows = []
    for (model, day), row in sorted(usage.items()):
        missing = [m for m in ("requests", "tokens_in", "tokens_out") if m not in row["seen"]]
        rows.append((
            model, day, round(row["requests"]),
            None if "tokens_in" in missing else round(row["tokens_in"]),
            None if "tokens_out" in missing else round(row["tokens_out"]),
            ctx.origin, row["line"],
            "no vllm:request_success_total for this model and day" if "requests" in missing else None,
        ))
    rows += [(model or None, None, None, None, None, ctx.origin, lineno, reason) for lineno, model, reason in flagged]
    if not rows:
        ctx.note("no vLLM counter sample lines; nothing written")
        return rec
    rows.sort(key=lambda r: r[6])
    write_rows(ctx, "inference_usage", OUT_COLUMNS, rows)
    rec.rows_out = len(rows)
    rec.rows_folded = rec.rows_in - rec.rows_out
    rec.rows_flagged = sum(1 for r in rows if r[7] is not None)
    ctx.note(f"{rec.rows_in} vLLM counter lines -> {len(usage)} (model, day) row(s) and {len(flagged)} flagged line(s)")
    ctx.note("first scrape of each series " + ("is a baseline only" if baseline else "counts from 0 (process start)"))
    if fallback is not None:
        ctx.note(f"samples without a timestamp timed at option ts={fmt_utc(fallback)}")
    return rec
