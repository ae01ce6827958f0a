"""Full `nvidia-smi -q` text reports (one or many concatenated, e.g. from `-q -l 5`) -> gpu_samples.

One row per GPU block ("GPU 00000000:18:00.0") per report, timed by the report's
`Timestamp` line. Parsed in DuckDB SQL: each line's indentation, key and value, the section it
sits in (window over the lines), then one pivot per GPU block.
"""

from __future__ import annotations

from .common import (
    GPU_SAMPLE_COLUMNS,
    SQL_FMT_UTC,
    FileContext,
    ImportedFile,
    connect,
    copy_primary,
    load_lines,
    sql_literal,
    tz_name,
)

# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("host", "hosts", "timezone")
OUT_COLUMNS = GPU_SAMPLE_COLUMNS
KIND = "nvidia-smi-q"

_KV = r"^(\s*)(\S.*?)\s*:(?:\s(.*))?$"
_GPU_HEADER = r"^GPU [0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+\s*$"
_NUM = r"^([-+]?[0-9]*\.?[0-9]+)\s*(\S*)$"


def _num(v: str, unit: str) -> str:
    return (
        f"CASE WHEN regexp_extract({v}, '{_NUM}', 2) IN ('', '{unit}') "
        f"THEN TRY_CAST(regexp_extract({v}, '{_NUM}', 1) AS DOUBLE) END"
    )


def run(ctx: FileContext) -> ImportedFile:
    """Read the report lines, gather each GPU block's values, normalise, write gpu_samples."""
    rec = ctx.record
    tz = tz_name(ctx.options)
    host = ctx.default_host()
    con = connect()
    try:
        load_lines(con, ctx.path)
        rec.rows_in = _read_blocks(con)
        if rec.rows_in == 0:
            rec.notes.append("no 'GPU xxxx:xx:xx.x' blocks found; nothing written")
            return rec
        _normalise(ctx, con, tz, host)
        _write(ctx, con, tz, host)
    finally:
        con.close()
    return rec


def _read_blocks(con) -> int:
    """Table `blocks`: one row per GPU block with its report's timestamp and raw values; returns the count."""
    con.execute(
        f"""
        CREATE TEMP TABLE l AS
        SELECT lineno, line,
               length(line) - length(ltrim(line)) AS indent,
               regexp_matches(line, '{_GPU_HEADER}') AS is_gpu,
               CASE WHEN regexp_matches(line, '{_KV}') THEN trim(regexp_extract(line, '{_KV}', 2)) END AS k,
               CASE WHEN regexp_matches(line, '{_KV}') THEN trim(regexp_extract(line, '{_KV}', 3)) END AS v
        FROM lines
        WHERE trim(line) <> ''
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE ctxl AS
        SELECT *,
               sum(is_gpu::INTEGER) OVER w AS block,
               sum(CASE WHEN indent = 0 AND k = 'Timestamp' THEN 1 ELSE 0 END) OVER w AS report,
               last_value(CASE WHEN indent = 0 AND k = 'Timestamp' THEN v END IGNORE NULLS) OVER w AS report_ts,
               last_value(CASE WHEN indent = 4 AND k IS NULL THEN trim(line)
                               WHEN indent <= 4 THEN '' END IGNORE NULLS) OVER w AS section
        FROM l
        WINDOW w AS (ORDER BY lineno ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        """
    )
    power_keys = ("Instantaneous Power Draw", "Power Draw", "Average Power Draw")
    power_pick = " ".join(
        f"WHEN max(CASE WHEN {_sec_power()} AND k = '{key}' AND v IS NOT NULL AND v NOT ILIKE '%N/A%' THEN 1 END) = 1 "
        f"THEN max(CASE WHEN {_sec_power()} AND k = '{key}' THEN v END)"
        for key in power_keys
    )
    con.execute(
        f"""
        CREATE TEMP TABLE blocks AS
        SELECT block,
               min(lineno) FILTER (WHERE is_gpu) AS origin_line,
               any_value(report) AS report,
               any_value(report_ts) FILTER (WHERE is_gpu) AS ts_txt,
               any_value(trim(line)) FILTER (WHERE is_gpu) AS bus,
               max(v) FILTER (WHERE indent = 4 AND k = 'Product Name') AS gpu_model,
               max(v) FILTER (WHERE indent = 4 AND k = 'GPU UUID') AS gpu_uuid,
               max(v) FILTER (WHERE indent = 4 AND k = 'Minor Number') AS minor_txt,
               CASE {power_pick}
                    ELSE max(CASE WHEN {_sec_power()} AND k IN {power_keys} THEN v END) END AS power_txt,
               max(v) FILTER (WHERE indent = 8 AND section = 'Utilization' AND k = 'Gpu') AS util_txt,
               max(v) FILTER (WHERE indent = 8 AND section = 'FB Memory Usage' AND k = 'Used') AS mem_txt
        FROM ctxl
        WHERE block > 0
        GROUP BY block
        """
    )
    return con.execute("SELECT count(*) FROM blocks").fetchone()[0]


def _normalise(ctx: FileContext, con, tz: str, host: str) -> None:
    """Table `result`: contract columns (gpu = Minor Number, else position in the report) and errors."""
    ts_norm = "regexp_replace(trim(ts_txt), '\\s+', ' ', 'g')"
    con.execute(
        f"""
        CREATE TEMP TABLE result AS
        WITH b AS (
            SELECT *,
                   timezone({sql_literal(tz)}, coalesce(
                       try_strptime({ts_norm}, '%a %b %d %H:%M:%S %Y'),
                       TRY_CAST(ts_txt AS TIMESTAMP))) AS ts,
                   {_num('power_txt', 'W')} AS power_w,
                   {_num('util_txt', '%')} AS util_pct,
                   {_num('mem_txt', 'MiB')} AS mem_used_mib,
                   TRY_CAST(minor_txt AS INTEGER) AS minor,
                   row_number() OVER (PARTITION BY report ORDER BY block) - 1 AS ordinal
            FROM blocks
        )
        SELECT {SQL_FMT_UTC.format('ts')} AS ts,
               {sql_literal(host)} AS host,
               coalesce(minor, ordinal) AS gpu,
               power_w,
               NULL::DOUBLE AS energy_mj,
               util_pct,
               mem_used_mib,
               gpu_uuid,
               gpu_model,
               {sql_literal(ctx.origin)} AS origin_file,
               origin_line,
               nullif(concat_ws('; ',
                   CASE WHEN ts_txt IS NULL THEN 'no report Timestamp line before this GPU block'
                        WHEN ts IS NULL THEN 'report Timestamp ''' || ts_txt || ''' not understood' END,
                   CASE WHEN power_txt IS NULL THEN 'no Power Draw in this GPU block'
                        WHEN power_w IS NULL THEN 'Power Draw is ' || power_txt END
               ), '') AS import_error,
               minor, ordinal, report
        FROM b
        """
    )


def _write(ctx: FileContext, con, tz: str, host: str) -> None:
    copy_primary(ctx, con, "gpu_samples", select="* EXCLUDE (minor, ordinal, report)")
    reports, per_report, models = con.execute(
        "SELECT count(DISTINCT report), max(n), list(DISTINCT gpu_model ORDER BY gpu_model) "
        "FROM (SELECT report, gpu_model, count(*) OVER (PARTITION BY report) AS n FROM result)"
    ).fetchone()
    ctx.note(f"{reports} report(s), up to {per_report} GPU(s) each")
    models = [m for m in (models or []) if m]
    if models:
        ctx.note(f"hosts: host={host} gpu_count={per_report} gpu_model={' / '.join(models)}")
    differs = con.execute("SELECT count(*) FROM result WHERE minor IS NOT NULL AND minor <> ordinal").fetchone()[0]
    if differs:
        ctx.note(f"{differs} GPU block(s) whose Minor Number differs from their position; gpu = Minor Number")
    if tz == "UTC":
        ctx.note("report Timestamps have no UTC offset; taken as UTC (nvidia-smi prints local time: set option timezone)")


def _sec_power() -> str:
    return "(indent = 8 AND section IN ('GPU Power Readings', 'Power Readings'))"
