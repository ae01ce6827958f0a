"""DCGM-exporter Prometheus text exposition -> gpu_samples, also when embedded in markdown or logs.

Only sample lines of DCGM metrics count as data rows (``DCGM_FI_DEV_POWER_USAGE{gpu="0",...} 27.1
[timestamp_ms]``); # HELP/# TYPE lines, prose, kubectl output and other metrics are not data. The
lines of one GPU in one scrape become one gpu_samples row (power, energy counter, utilisation,
memory); the other lines of that scrape are folded into it. A line repeated verbatim (the same
scrape printed twice) is folded too.
"""

from __future__ import annotations

from .common import (
    GPU_SAMPLE_COLUMNS,
    SQL_FMT_UTC,
    FileContext,
    ImportedFile,
    ImporterError,
    connect,
    copy_query,
    fmt_utc,
    load_lines,
    parse_utc,
    sql_literal,
    tz_name,
)

# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("host", "hosts", "timezone", "ts")
OUT_COLUMNS = GPU_SAMPLE_COLUMNS
KIND = "dcgm"

_SAMPLE = r"^\s*(DCGM_[A-Za-z0-9_]+)(\{[^}]*\})?\s+([^\s]+)(?:\s+(-?[0-9]+))?\s*$"
METRICS = {
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": "energy_mj",
    "DCGM_FI_DEV_GPU_UTIL": "util_pct",
    "DCGM_FI_DEV_FB_USED": "mem_used_mib",
}


def _label(name: str) -> str:
    return f"nullif(regexp_extract(labels, '[{{,]\\s*{name}\\s*=\\s*\"([^\"]*)\"', 1), '')"


def run(ctx: FileContext) -> ImportedFile:
    rec = ctx.record
    opts = ctx.options
    tz = tz_name(opts)
    default_host = ctx.default_host()
    ts_opt = opts.get("ts")
    ts_fallback = None
    if ts_opt is not None:
        parsed = parse_utc(str(ts_opt), tz)
        if parsed is None:
            raise ImporterError(f"{ctx.path}: option ts={ts_opt!r} is not an ISO timestamp (e.g. 2026-03-20T12:00:00Z)")
        ts_fallback = fmt_utc(parsed)
    con = connect()
    load_lines(con, ctx.path)
    con.execute(
        f"""
        CREATE TEMP TABLE s AS
        SELECT lineno, metric, labels, val_txt, ts_ms_txt,
               {_label('gpu')} AS gpu_txt, {_label('UUID')} AS uuid, {_label('Hostname')} AS hostname,
               {_label('modelName')} AS model
        FROM (
            SELECT lineno,
                   regexp_extract(line, '{_SAMPLE}', 1) AS metric,
                   coalesce(regexp_extract(line, '{_SAMPLE}', 2), '') AS labels,
                   regexp_extract(line, '{_SAMPLE}', 3) AS val_txt,
                   nullif(regexp_extract(line, '{_SAMPLE}', 4), '') AS ts_ms_txt
            FROM lines WHERE regexp_matches(line, '{_SAMPLE}')
        )
        """
    )
    rec.rows_in = con.execute("SELECT count(*) FROM s").fetchone()[0]
    if rec.rows_in == 0:
        rec.notes.append("no DCGM sample lines; nothing written")
        con.close()
        return rec
    con.execute(
        """
        CREATE TEMP TABLE d AS
        SELECT *, row_number() OVER (PARTITION BY metric, labels, val_txt, coalesce(ts_ms_txt, '') ORDER BY lineno) > 1
                  AS verbatim_repeat
        FROM s
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE k AS
        SELECT *, row_number() OVER (PARTITION BY metric, labels, coalesce(ts_ms_txt, '') ORDER BY lineno) AS scrape
        FROM d WHERE NOT verbatim_repeat
        """
    )
    pivots = ",\n".join(
        f"max(TRY_CAST(val_txt AS DOUBLE)) FILTER (WHERE metric = '{m}') AS {col},"
        f" max(val_txt) FILTER (WHERE metric = '{m}') AS {col}_txt"
        for m, col in METRICS.items()
    )
    ts_expr = (
        "to_timestamp(TRY_CAST(ts_ms_txt AS BIGINT) / 1000.0)"
        if ts_fallback is None
        else f"coalesce(to_timestamp(TRY_CAST(ts_ms_txt AS BIGINT) / 1000.0), TIMESTAMPTZ {sql_literal(ts_fallback)})"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE g AS
        SELECT hostname, gpu_txt, uuid, ts_ms_txt, scrape,
               any_value(model) AS model,
               coalesce(min(lineno) FILTER (WHERE metric = 'DCGM_FI_DEV_POWER_USAGE'), min(lineno)) AS origin_line,
               {pivots}
        FROM k
        GROUP BY hostname, gpu_txt, uuid, ts_ms_txt, scrape
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE result AS
        WITH r AS (
            SELECT *, {ts_expr} AS ts, coalesce(hostname, {sql_literal(default_host)}) AS host,
                   TRY_CAST(gpu_txt AS INTEGER) AS gpu
            FROM g
        ),
        c AS (SELECT *, count(*) OVER (PARTITION BY host, gpu, ts) AS same_key FROM r)
        SELECT {SQL_FMT_UTC.format('ts')} AS ts, host, gpu, power_w, energy_mj, util_pct, mem_used_mib,
               uuid AS gpu_uuid, model AS gpu_model,
               {sql_literal(ctx.origin)} AS origin_file, origin_line,
               nullif(concat_ws('; ',
                   CASE WHEN ts IS NULL AND ts_ms_txt IS NULL
                        THEN 'no timestamp in scrape; pass --option ts=... (the time of the scrape)'
                        WHEN ts IS NULL THEN 'timestamp ''' || ts_ms_txt || ''' not understood' END,
                   CASE WHEN gpu IS NULL THEN 'no gpu label' END,
                   CASE WHEN power_w_txt IS NULL THEN 'no DCGM_FI_DEV_POWER_USAGE for this GPU in this scrape'
                        WHEN power_w IS NULL THEN 'DCGM_FI_DEV_POWER_USAGE ''' || power_w_txt || ''' is not a number' END,
                   CASE WHEN ts IS NOT NULL AND same_key > 1
                        THEN same_key || ' scrapes of this GPU share the time ' || {SQL_FMT_UTC.format('ts')}
                             || ' (no timestamps in the scrape); cannot tell their times apart' END
               ), '') AS import_error
        FROM c
        """
    )
    copy_query(ctx, con, "gpu_samples", "SELECT * FROM result ORDER BY origin_line")
    rec.rows_out = rec.rows_written["gpu_samples"]
    rec.rows_folded = rec.rows_in - rec.rows_out
    rec.rows_flagged = con.execute("SELECT count(*) FROM result WHERE import_error IS NOT NULL").fetchone()[0]
    repeats, used, other = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE verbatim_repeat),
               count(*) FILTER (WHERE NOT verbatim_repeat AND metric IN {tuple(METRICS)}),
               count(*) FILTER (WHERE NOT verbatim_repeat AND metric NOT IN {tuple(METRICS)})
        FROM d
        """
    ).fetchone()
    ctx.note(
        f"{rec.rows_in} DCGM sample lines -> {rec.rows_out} GPU sample(s); folded: "
        f"{repeats} verbatim repeat(s), {max(used - rec.rows_out, 0)} other contract metric line(s) "
        f"and {other} line(s) of metrics outside the contract"
    )
    if ts_fallback is not None:
        ctx.note(f"scrapes without a sample timestamp timed at option ts={ts_fallback}")
    models = con.execute("SELECT list(DISTINCT host || ': ' || gpu_model) FROM result WHERE gpu_model IS NOT NULL").fetchone()[0]
    if models:
        ctx.note(f"gpu_model: {', '.join(sorted(models))}")
    con.close()
    return rec
