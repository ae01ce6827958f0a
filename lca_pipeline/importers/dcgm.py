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
    copy_primary,
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
    """Read the sample lines, fold repeats and the metrics of one GPU-scrape, normalise, write gpu_samples."""
    rec = ctx.record
    ts_fallback = _ts_option(ctx)
    con = connect()
    try:
        rec.rows_in = _read(ctx, con)
        if rec.rows_in == 0:
            rec.notes.append("no DCGM sample lines; nothing written")
            return rec
        _fold(con)
        _normalise(ctx, con, ts_fallback)
        _write(ctx, con, ts_fallback)
    finally:
        con.close()
    return rec


def _ts_option(ctx: FileContext) -> str | None:
    """Option `ts`: the time of a scrape whose lines carry no timestamp, as UTC text."""
    tz = tz_name(ctx.options)  # also rejects a bad option timezone when ts is not given
    ts_opt = ctx.options.get("ts")
    if ts_opt is None:
        return None
    parsed = parse_utc(str(ts_opt), tz)
    if parsed is None:
        raise ImporterError(f"{ctx.path}: option ts={ts_opt!r} is not an ISO timestamp (e.g. 2026-03-20T12:00:00Z)")
    return fmt_utc(parsed)


def _read(ctx: FileContext, con) -> int:
    """Table `s`: every DCGM sample line with its metric, labels, value and timestamp; returns the count."""
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
    return con.execute("SELECT count(*) FROM s").fetchone()[0]


def _fold(con) -> None:
    """Tables `d` (verbatim repeats marked) and `k` (repeats left out, scrapes numbered), then `g`:
    one row per GPU and scrape with its metrics side by side."""
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


def _normalise(ctx: FileContext, con, ts_fallback: str | None) -> None:
    """Table `result`: contract columns, with the reasons a GPU-scrape cannot be used in import_error."""
    ts_expr = (
        "to_timestamp(TRY_CAST(ts_ms_txt AS BIGINT) / 1000.0)"
        if ts_fallback is None
        else f"coalesce(to_timestamp(TRY_CAST(ts_ms_txt AS BIGINT) / 1000.0), TIMESTAMPTZ {sql_literal(ts_fallback)})"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE result AS
        WITH r AS (
            SELECT *, {ts_expr} AS ts, coalesce(hostname, {sql_literal(ctx.default_host())}) AS host,
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


def _write(ctx: FileContext, con, ts_fallback: str | None) -> None:
    rec = ctx.record
    copy_primary(ctx, con, "gpu_samples")
    rec.rows_folded = rec.rows_in - rec.rows_out
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
