"""`nvidia-smi --query-gpu=... --format=csv[,nounits]` logs -> gpu_samples.

Everything row-wise runs in DuckDB SQL over the file's lines (string splitting and casts, window
functions for the implicit GPU order); Python only looks at the header line and at aggregates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .common import (
    GPU_SAMPLE_COLUMNS,
    SQL_FMT_UTC,
    FileContext,
    ImportedFile,
    connect,
    copy_primary,
    ends_with_newline,
    load_lines,
    sql_literal,
    tz_name,
)

KIND = "nvidia-smi"

# nvidia-smi query field -> contract column (first listed wins when several are present)
FIELD_MAP: dict[str, str] = {
    "timestamp": "ts",
    "power.draw.instant": "power_w",
    "power.draw": "power_w",
    "power.draw.average": "power_w",
    "utilization.gpu": "util_pct",
    "memory.used": "mem_used_mib",
    "index": "gpu",
    "uuid": "gpu_uuid",
    "gpu_uuid": "gpu_uuid",
    "name": "gpu_model",
    "gpu_name": "gpu_model",
}
UNITS = {"power_w": "W", "util_pct": "%", "mem_used_mib": "MiB"}

# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("host", "hosts", "timezone", "gpus", "fields")
OUT_COLUMNS = GPU_SAMPLE_COLUMNS

MAX_GPUS_INFERRED = 16
INFER_ROWS = 20000


def parse_header(line: str) -> list[tuple[str, str | None]]:
    """`timestamp, power.draw [W]` -> [('timestamp', None), ('power.draw', 'W')]."""
    out = []
    for raw in line.split(","):
        m = re.match(r"^\s*(.*?)\s*(?:\[(.*?)\])?\s*$", raw)
        name, unit = (m.group(1), m.group(2)) if m else (raw.strip(), None)
        out.append((name.strip().lower(), unit))
    return out


def _looks_like_header(fields: list[tuple[str, str | None]]) -> bool:
    return any(name in FIELD_MAP for name, _ in fields)


def _fields_option(value: Any) -> list[tuple[str, str | None]] | None:
    if value is None:
        return None
    text = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
    return parse_header(text)


def run(ctx: FileContext) -> ImportedFile:
    """Read the header and rows, parse values, assign each row its GPU, flag errors, write gpu_samples."""
    rec = ctx.record
    opts = ctx.options
    tz = tz_name(opts)
    host = ctx.default_host()
    con = connect()
    try:
        load_lines(con, ctx.path)
        layout = _read_header(ctx, con, opts)
        if layout is None:
            rec.notes.append("file has no lines; nothing written")
            return rec
        last_line = _load_rows(ctx, con, layout)
        _parse(con, layout, tz, last_line, ends_with_newline(ctx.path))
        rec.rows_in = con.execute("SELECT count(*) FROM parsed").fetchone()[0]
        if rec.rows_in == 0:
            rec.notes.append("no data rows; nothing written")
            return rec
        # is the header describing these values at all? (file-level, never guessed around)
        if layout.file_error is None:
            layout.file_error = _header_mismatch(con, layout.ncols, layout.cols, layout.header, rec.rows_in)
        _assign_gpus(ctx, con, layout, opts)
        _normalise(ctx, con, layout, host)
        _write(ctx, con, layout, host, tz)
    finally:
        con.close()
    return rec


@dataclass
class _Layout:
    """The columns of the file: from its header line, option `fields`, or none (every row flagged)."""

    header: list[tuple[str, str | None]]
    header_text: str | None  # the header line as written (None: no header line)
    data_from: int  # first data line
    file_error: str | None
    cols: dict[str, int] = field(default_factory=dict)  # contract column -> field index

    @property
    def ncols(self) -> int:
        return len(self.header)

    def field_sql(self, target: str) -> str:
        return f"trim(f[{self.cols[target] + 1}])" if target in self.cols else "NULL::VARCHAR"


def _read_header(ctx: FileContext, con, opts: dict[str, Any]) -> _Layout | None:
    first = con.execute(
        "SELECT lineno, line FROM lines WHERE trim(line) <> '' ORDER BY lineno LIMIT 1"
    ).fetchone()
    if first is None:
        return None
    header_line_no, header_text = first
    header = parse_header(header_text)
    file_error: str | None = None
    opt_fields = _fields_option(opts.get("fields"))
    if _looks_like_header(header):
        data_from = header_line_no + 1
    elif opt_fields is not None:
        header = opt_fields
        header_text = None
        data_from = header_line_no
        ctx.note("no header line; columns taken from option fields")
    else:
        data_from = header_line_no
        header_text = None
        file_error = (
            "no nvidia-smi header line (expected e.g. 'timestamp, index, power.draw [W]'); "
            "pass --option fields=timestamp,index,power.draw,... for --format=csv,noheader files"
        )
    layout = _Layout(header, header_text, data_from, file_error)
    for i, (name, _unit_) in enumerate(header):
        target = FIELD_MAP.get(name)
        if target is None:
            continue
        if target not in layout.cols or \
                list(FIELD_MAP).index(name) < list(FIELD_MAP).index(header[layout.cols[target]][0]):
            layout.cols[target] = i
    ignored = [name for name, _ in header if name not in FIELD_MAP]
    if ignored and layout.file_error is None:
        ctx.note(f"columns not used: {', '.join(ignored)}")
    if layout.file_error is None and "ts" not in layout.cols:
        layout.file_error = "header has no timestamp column; add timestamp to --query-gpu"
    if layout.file_error is None and "power_w" not in layout.cols:
        layout.file_error = "header has no power.draw column; add power.draw to --query-gpu"
    return layout


def _load_rows(ctx: FileContext, con, layout: _Layout) -> int | None:
    """Table `rows`: the data lines split into fields, repeated header lines left out; returns the last line."""
    header_norm = (layout.header_text or "").strip()
    data_from = layout.data_from
    repeated = (
        con.execute(
            f"SELECT count(*) FROM lines WHERE lineno >= {data_from} AND trim(line) = {sql_literal(header_norm)}"
        ).fetchone()[0]
        if layout.header_text
        else 0
    )
    if repeated:
        ctx.note(f"{repeated} repeated header line(s) skipped (not data rows); GPU order restarts after each")
    # segment = run of rows between header lines (an appended second run of nvidia-smi restarts the GPU order)
    seg = "sum(is_hdr::INTEGER) OVER (ORDER BY lineno)" if repeated else "0"
    con.execute(
        f"""
        CREATE TEMP TABLE rows AS
        SELECT lineno, f, len(f) AS nf, seg
        FROM (
            SELECT lineno, f, is_hdr, {seg} AS seg
            FROM (
                SELECT lineno, string_split(line, ',') AS f,
                       {f"trim(line) = {sql_literal(header_norm)}" if repeated else "false"} AS is_hdr
                FROM lines
                WHERE lineno >= {data_from} AND trim(line) <> ''
            )
        )
        WHERE NOT is_hdr
        """
    )
    con.execute("DROP TABLE lines")
    return con.execute("SELECT max(lineno) FROM rows").fetchone()[0]


def _parse(con, layout: _Layout, tz: str, last_line: int | None, newline_end: bool) -> None:
    """Table `parsed`: timestamps in UTC, numbers with their unit checked, and why a value is unusable."""
    f = layout.field_sql
    offset_re = "(Z|[+-][0-9]{2}:?[0-9]{2})$"
    num_cols, flag_cols = [], []
    for target in ("power_w", "util_pct", "mem_used_mib"):
        m = f"{target}_m"
        unit_ok = f"({m}.u IN ('', '{UNITS[target]}'))"
        num = f"TRY_CAST(nullif({m}.n, '') AS DOUBLE)"
        na = f"(coalesce({target}_txt, '') = '' OR {target}_txt[1] = '[' OR upper({target}_txt) = 'N/A')"
        # '250.5 W' -> n '250.5', u 'W' (nvidia-smi separates value and unit by one space)
        num_cols.append(
            f"{{'n': split_part({target}_txt, ' ', 1), "
            f"'u': trim(substr({target}_txt, length(split_part({target}_txt, ' ', 1)) + 1))}} AS {m}"
        )
        flag_cols.append(
            f"CASE WHEN {unit_ok} THEN {num} END AS {target}, {target}_txt, "
            f"({target}_txt IS NOT NULL AND NOT {na} AND ({num} IS NULL OR NOT {unit_ok})) AS {target}_bad, "
            f"({target}_txt IS NOT NULL AND {na}) AS {target}_na, "
            f"({target}_txt IS NOT NULL AND {num} IS NOT NULL AND NOT {unit_ok}) AS {target}_wrong_unit"
        )
    con.execute(
        f"""
        CREATE TEMP TABLE parsed AS
        WITH a AS (
            SELECT lineno, seg, nf, {f("ts")} AS ts_txt, {f("power_w")} AS power_w_txt,
                   {f("util_pct")} AS util_pct_txt, {f("mem_used_mib")} AS mem_used_mib_txt,
                   {f("gpu")} AS gpu_txt, {f("gpu_uuid")} AS gpu_uuid, {f("gpu_model")} AS gpu_model
            FROM rows
        ),
        b AS (
            SELECT *, {", ".join(num_cols)},
                   CASE WHEN regexp_matches(ts_txt, '{offset_re}')
                        THEN TRY_CAST(replace(ts_txt, '/', '-') AS TIMESTAMPTZ)
                        ELSE timezone({sql_literal(tz)}, coalesce(
                            try_strptime(ts_txt, ['%Y/%m/%d %H:%M:%S.%f', '%Y/%m/%d %H:%M:%S']),
                            TRY_CAST(ts_txt AS TIMESTAMP))) END AS ts
            FROM a
        )
        SELECT lineno, seg, nf, ts_txt, ts, {", ".join(flag_cols)},
               gpu_txt, TRY_CAST(gpu_txt AS INTEGER) AS gpu_explicit, gpu_uuid, gpu_model,
               (lineno = {last_line or -1} AND {str(not newline_end).lower()}) AS is_last_cut
        FROM b
        """
    )
    con.execute("DROP TABLE rows")


def _assign_gpus(ctx: FileContext, con, layout: _Layout, opts: dict[str, Any]) -> None:
    """Table `assigned`: each row's GPU, from the index column or from its position in the sample."""
    con.execute(
        f"""
        CREATE TEMP TABLE flags AS
        SELECT *,
               (nf = {layout.ncols} AND ts IS NOT NULL AND NOT power_w_bad AND NOT power_w_na) AS complete
        FROM parsed
        """
    )
    if layout.file_error is not None:
        con.execute("CREATE TEMP TABLE assigned AS SELECT *, gpu_explicit AS gpu, NULL::VARCHAR AS gpu_error FROM flags")
    elif "gpu" in layout.cols:
        con.execute(
            """
            CREATE TEMP TABLE assigned AS
            SELECT *, gpu_explicit AS gpu,
                   CASE WHEN gpu_explicit IS NULL OR gpu_explicit < 0
                        THEN 'index ''' || coalesce(gpu_txt, '') || ''' is not a GPU index' END AS gpu_error
            FROM flags
            """
        )
    else:
        _assign_implicit(ctx, con, opts)


def _normalise(ctx: FileContext, con, layout: _Layout, host: str) -> None:
    """Table `result`: contract columns, with the reasons a row cannot be used in import_error."""
    ncols = layout.ncols
    err_parts = [
        f"CASE WHEN is_last_cut AND (nf <> {ncols} OR ts IS NULL OR power_w_bad OR power_w_na) THEN 'truncated last line' END",
        f"CASE WHEN NOT (is_last_cut AND (nf <> {ncols} OR ts IS NULL OR power_w_bad OR power_w_na)) AND nf <> {ncols} "
        f"THEN 'row has ' || nf || ' fields, header has {ncols}' END",
        f"CASE WHEN NOT is_last_cut AND nf = {ncols} AND ts IS NULL THEN 'timestamp ''' || coalesce(ts_txt, '') || ''' not understood' END",
        f"CASE WHEN NOT is_last_cut AND nf = {ncols} AND power_w_na THEN 'power.draw is ' || coalesce(nullif(power_w_txt, ''), 'empty') END",
        f"CASE WHEN NOT is_last_cut AND nf = {ncols} AND power_w_bad THEN 'power.draw ''' || power_w_txt || ''' is not a number in W' END",
        f"CASE WHEN NOT is_last_cut AND nf = {ncols} AND util_pct_bad THEN 'utilization.gpu ''' || util_pct_txt || ''' is not a number in %' END",
        f"CASE WHEN NOT is_last_cut AND nf = {ncols} AND mem_used_mib_bad THEN 'memory.used ''' || mem_used_mib_txt || ''' is not a number in MiB' END",
        "CASE WHEN complete THEN gpu_error END",
    ]
    error_expr = (
        sql_literal(layout.file_error) if layout.file_error is not None
        else f"nullif(concat_ws('; ', {', '.join(err_parts)}), '')"
    )
    query = f"""
        SELECT {SQL_FMT_UTC.format('ts')} AS ts,
               {sql_literal(host)} AS host,
               gpu,
               power_w,
               NULL::DOUBLE AS energy_mj,
               util_pct,
               mem_used_mib,
               gpu_uuid,
               gpu_model,
               {sql_literal(ctx.origin)} AS origin_file,
               lineno AS origin_line,
               {error_expr} AS import_error
        FROM assigned
        ORDER BY lineno
    """
    con.execute(f"CREATE TEMP TABLE result AS {query}")


def _write(ctx: FileContext, con, layout: _Layout, host: str, tz: str) -> None:
    copy_primary(ctx, con, "gpu_samples")
    if layout.file_error is not None:
        ctx.note(f"every row flagged: {layout.file_error}")
    gpus = con.execute(
        "SELECT list(DISTINCT gpu ORDER BY gpu) FROM result WHERE import_error IS NULL"
    ).fetchone()[0]
    if gpus:
        ctx.note(f"host {host}: GPUs {gpus}")
    if tz == "UTC":
        naive = con.execute(
            "SELECT count(*) FROM parsed WHERE ts IS NOT NULL AND NOT regexp_matches(ts_txt, '(Z|[+-][0-9]{2}:?[0-9]{2})$')"
        ).fetchone()[0]
        if naive:
            ctx.note("timestamps have no UTC offset; taken as UTC (nvidia-smi prints local time: set option timezone)")
    models = con.execute("SELECT list(DISTINCT gpu_model) FROM result WHERE gpu_model IS NOT NULL").fetchone()[0]
    if models:
        ctx.note(f"gpu_model: {', '.join(sorted(models))}")


def _header_mismatch(con, ncols: int, cols: dict[str, int], header, rows: int) -> str | None:
    """A reason when the header cannot describe the values (never guess which column is which)."""
    agg = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE nf = {ncols}),
               count(*) FILTER (WHERE ts IS NOT NULL),
               count(*) FILTER (WHERE power_w_bad), count(*) FILTER (WHERE power_w_wrong_unit),
               count(*) FILTER (WHERE util_pct_bad OR util_pct > 100 OR util_pct < 0),
               count(*) FILTER (WHERE mem_used_mib_bad OR mem_used_mib < 0),
               count(*) FILTER (WHERE power_w > 3000 OR power_w < 0)
        FROM parsed
        """
    ).fetchone()
    n_ok_fields, n_ts, n_pbad, n_punit, n_ubad, n_mbad, n_prange = agg
    half = rows / 2
    names = ", ".join(n for n, _ in header)
    if n_ok_fields < half:
        common = con.execute("SELECT mode(nf) FROM parsed").fetchone()[0]
        return (
            f"header does not match the values: the header has {ncols} fields ({names}) but the rows "
            f"have {common}; fix the header (do not guess) or re-export with nvidia-smi --format=csv"
        )
    if n_ts < half:
        return (
            "header does not match the values: the 'timestamp' column does not hold timestamps; "
            "fix the header or re-export with nvidia-smi --format=csv"
        )
    if n_pbad + n_prange > half or n_punit > half:
        return (
            "header does not match the values: the 'power.draw' column does not hold power readings in W; "
            "fix the header or re-export with nvidia-smi --format=csv"
        )
    if n_ubad > half:
        return "header does not match the values: the 'utilization.gpu' column does not hold percentages"
    if n_mbad > half:
        return "header does not match the values: the 'memory.used' column does not hold MiB values"
    if "gpu" in cols:
        bad_idx, dup = con.execute(
            """
            SELECT count(*) FILTER (WHERE gpu_explicit IS NULL OR gpu_explicit < 0 OR gpu_explicit > 1023),
                   count(*) FILTER (WHERE n > 1)
            FROM (SELECT gpu_explicit, count(*) OVER (PARTITION BY ts_txt, gpu_explicit) AS n
                  FROM parsed WHERE ts IS NOT NULL)
            """
        ).fetchone()
        if bad_idx > half:
            return "header does not match the values: the 'index' column does not hold GPU indices"
        if dup > half:
            example = con.execute(
                """
                SELECT ts_txt, gpu_txt, count(*) AS n FROM parsed WHERE ts IS NOT NULL
                GROUP BY ts_txt, gpu_txt HAVING count(*) > 1 ORDER BY min(lineno) LIMIT 1
                """
            ).fetchone()
            return (
                "header does not match the values: the 'index' column repeats the same value for rows "
                f"with the same timestamp (e.g. {example[2]} rows at {example[0]} all have index "
                f"'{example[1]}'), so it cannot be the GPU index; the header may be shifted against the "
                "values. Fix the header or re-export with nvidia-smi --query-gpu=timestamp,index,... --format=csv"
            )
    return None


def _assign_implicit(ctx: FileContext, con, opts: dict[str, Any]) -> None:
    """No index column: the rows of one sample are GPUs 0..N-1 in nvidia-smi's order.

    nvidia-smi writes one row per GPU per sample, always in index order, so within a run (a
    segment between header lines) row k is GPU k mod N. N comes from option `gpus` or from the
    timing: gaps between rows are a few ms inside a sample and about one period P between
    samples, so N = rows / samples (rows sharing one timestamp form one sample), confirmed by
    t[i+N] - t[i] being within 25 % of P for at least 90 % of the rows. The assignment is then
    checked: a sample that starts or ends less than P/2 from its neighbour shares a sampling
    period with it, which means a row went missing (or one too many was written), so the GPU
    order is ambiguous from there on; those samples are flagged, never guessed. (A long gap
    inside a sample with normal gaps around it is a stalled query, which happens, and is kept.)
    """
    con.execute(
        """
        CREATE TEMP TABLE seq AS
        SELECT lineno, seg, row_number() OVER (PARTITION BY seg ORDER BY lineno) - 1 AS pos,
               CASE WHEN ts IS NOT NULL AND nf = (SELECT mode(nf) FROM flags) THEN epoch_ms(ts)::DOUBLE END AS t
        FROM flags
        """
    )
    n_gpus = _forced_gpus(ctx, opts)
    if n_gpus is None:
        n_gpus, msg = _infer_gpus(ctx, con)
        if msg is not None:
            msg = (
                "no index column and the number of GPUs per sample cannot be inferred from the row "
                f"timing ({msg}); pass --option gpus=N"
            )
            con.execute(
                f"CREATE TEMP TABLE assigned AS SELECT *, NULL::INTEGER AS gpu, {sql_literal(msg)} AS gpu_error FROM flags"
            )
            ctx.note(msg)
            return
    if n_gpus == 1:
        con.execute("CREATE TEMP TABLE assigned AS SELECT *, 0 AS gpu, NULL::VARCHAR AS gpu_error FROM flags")
        return
    _assign_by_position(ctx, con, n_gpus)


_LAG_SQL = """
    WITH g AS (SELECT seg, pos, t FROM seq WHERE t IS NOT NULL AND pos < {lim}),
    d AS (SELECT x.n, b.t - x.t AS d
          FROM (SELECT c.n, g.seg, g.pos, g.t FROM cand c CROSS JOIN g) x
          JOIN g b ON b.seg = x.seg AND b.pos = x.pos + x.n),
    m AS (SELECT n, median(d) AS med FROM d GROUP BY n)
    SELECT n, med,
           avg(CASE WHEN med > 0 AND abs(d - med) <= 0.25 * med THEN 1.0 ELSE 0.0 END) AS regular
    FROM d JOIN m USING (n) GROUP BY n, med ORDER BY n
"""


def _lag_stats(con, n_gpus: int) -> tuple | None:
    """(N, median of t[i+N] - t[i], share of rows within 25 % of that median) for N GPUs per sample."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE cand AS SELECT {n_gpus} AS n")
    return con.execute(_LAG_SQL.format(lim=INFER_ROWS)).fetchone()


def _forced_gpus(ctx: FileContext, opts: dict[str, Any]) -> int | None:
    forced = opts.get("gpus")
    if forced is None:
        return None
    try:
        n_gpus = int(forced)
        if n_gpus < 1:
            raise ValueError
    except (TypeError, ValueError):
        ctx.note(f"option gpus={forced!r} is not a positive integer; ignored")
        return None
    ctx.note(f"GPUs per sample: {n_gpus} (option gpus)")
    return n_gpus


def _infer_gpus(ctx: FileContext, con) -> tuple[int | None, str | None]:
    """GPUs per sample from the row timing, or why it cannot be inferred."""
    # gaps between consecutive rows are a few ms inside a sample and about one period between
    # samples; the 97th percentile of the gaps is a period (N <= 16 -> >= 6 % of gaps are
    # "between" gaps), half of it separates the two, and N = rows / samples.
    p_hat, n_rows, n_samples, n_gaps = con.execute(
        f"""
        WITH g AS (SELECT seg, pos, t FROM seq WHERE t IS NOT NULL AND pos < {INFER_ROWS}),
        gaps AS (SELECT t - lag(t) OVER (PARTITION BY seg ORDER BY pos) AS gap FROM g),
        p AS (SELECT quantile_cont(gap, 0.97) AS p FROM gaps WHERE gap IS NOT NULL)
        SELECT any_value(p.p), count(*),
               count(*) FILTER (WHERE gap IS NULL OR gap > p.p / 2), count(gap)
        FROM gaps CROSS JOIN p
        """
    ).fetchone()
    if not n_gaps:
        return 1, None
    if not p_hat:
        return None, "all rows have the same timestamp"
    ratio = n_rows / n_samples  # rows per sample
    guess = max(1, round(ratio))
    stat = _lag_stats(con, guess)
    regular = float(stat[2]) if stat else 1.0
    if guess > MAX_GPUS_INFERRED or abs(ratio - guess) > 0.15 * guess or regular < 0.9:
        return None, f"best guess {guess} GPUs fits {regular:.0%} of rows"
    ctx.note(
        f"no index column: {guess} GPU(s) per sample inferred from the row timing "
        f"(period {p_hat:.0f} ms; {regular:.1%} of rows one period after the same GPU's "
        f"previous row); row k of a sample is GPU k"
    )
    return guess, None


def _assign_by_position(ctx: FileContext, con, n_gpus: int) -> None:
    """Row k of a sample is GPU k; samples that straddle two sampling periods are flagged."""
    period = _lag_stats(con, n_gpus)
    p = float(period[1]) if period and period[1] is not None else 0.0
    con.execute(
        f"""
        CREATE TEMP TABLE samples AS
        WITH r AS (SELECT lineno, seg, pos, pos // {n_gpus} AS sample, t,
                          t - lag(t) OVER (PARTITION BY seg, pos // {n_gpus} ORDER BY pos) AS inner_gap
                   FROM seq),
        s AS (SELECT seg, sample, min(t) AS t0, max(t) AS t1, max(inner_gap) AS max_inner, min(lineno) AS first_line
              FROM r GROUP BY seg, sample)
        SELECT *, t0 - lag(t1) OVER (PARTITION BY seg ORDER BY sample) AS lead_gap,
               lead(t0) OVER (PARTITION BY seg ORDER BY sample) - t1 AS trail_gap
        FROM s
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE assigned AS
        SELECT flags.*, seq.pos % {n_gpus} AS gpu,
               CASE WHEN s.lead_gap < {p / 2} OR s.trail_gap < {p / 2}
                    THEN 'GPU order ambiguous: the sample starting at line ' || s.first_line
                         || ' straddles two sampling periods (a row is missing earlier in this run of '
                         || '{n_gpus} GPUs per sample); pass --option gpus=N or add index to --query-gpu'
               END AS gpu_error
        FROM flags JOIN seq USING (lineno)
        JOIN samples s ON s.seg = seq.seg AND s.sample = seq.pos // {n_gpus}
        """
    )
    odd = con.execute("SELECT count(DISTINCT gpu_error) FROM assigned WHERE gpu_error IS NOT NULL").fetchone()[0]
    if odd:
        ctx.note(f"{odd} sample(s) flagged: they straddle two sampling periods (GPU order ambiguous)")
