"""Slurm `sacct` output -> jobs + allocations.

Formats: `--parsable2`/`--parsable` (pipe, header or not: a headerless dump needs option
`sacct.fields`), a `--delimiter=,` dump with header, and the default fixed-width table (header
line + dashes line; the column widths come from the dashes, and a trailing '+' marks a value
sacct cut to fit). Job steps (`123.batch`, `123.0`, `123.extern`) are folded into their job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..contract import JOB_STATES, PROVENANCE
from .common import (
    FileContext,
    ImportedFile,
    ImporterError,
    apply_rules,
    compile_rules,
    fmt_utc,
    join_errors,
    note_first,
    parse_utc,
    tz_name,
    unique_ids,
    write_primary,
    write_rows,
)

KIND = "sacct"

# The option names this importer reads (docs/importers.md); any other name is an error.
OPTIONS: tuple[str, ...] = ("timezone", "fields", "now", "rules", "delimiter", "site")
JOB_COLUMNS = (
    "job_id", "model", "stage", "state", "start", "end", "project", "user", "site", "energy_kwh",
    "partition", "job_name", "state_raw", "gpus", "nodelist",
) + PROVENANCE
ALLOC_COLUMNS = ("job_id", "host", "gpu", "start", "end") + PROVENANCE
RULE_FIELDS = ("JobName", "Account", "Comment", "Partition", "User", "QOS", "WCKey")

# sacct --helpformat (lower case): used to recognise a header line and to complete names cut by '+'
SACCT_FIELDS = {
    f.lower(): f
    for f in (
        "Account AdminComment AllocCPUS AllocGRES AllocNodes AllocTRES AssocID AveCPU AveCPUFreq "
        "AveDiskRead AveDiskWrite AvePages AveRSS AveVMSize BlockID Cluster Comment Constraints "
        "ConsumedEnergy ConsumedEnergyRaw Container CPUTime CPUTimeRAW DBIndex DerivedExitCode Elapsed "
        "ElapsedRaw Eligible End ExitCode Extra FailedNode Flags GID Group JobID JobIDRaw JobName Layout "
        "Licenses MaxDiskRead MaxDiskReadNode MaxDiskReadTask MaxDiskWrite MaxDiskWriteNode "
        "MaxDiskWriteTask MaxPages MaxPagesNode MaxPagesTask MaxRSS MaxRSSNode MaxRSSTask MaxVMSize "
        "MaxVMSizeNode MaxVMSizeTask McsLabel MinCPU MinCPUNode MinCPUTask NCPUS NNodes NodeList NTasks "
        "Partition Planned PlannedCPU PlannedCPURAW Priority QOS QOSRAW Reason ReqCPUFreq ReqCPUFreqGov "
        "ReqCPUFreqMax ReqCPUFreqMin ReqCPUS ReqGRES ReqMem ReqNodes ReqTRES Reservation ReservationId "
        "Reserved ResvCPU ResvCPURAW Start State Submit SubmitLine Suspended SystemComment SystemCPU "
        "Timelimit TimelimitRaw TotalCPU TRESUsageInAve TRESUsageInMax TRESUsageInMaxNode "
        "TRESUsageInMaxTask TRESUsageInMin TRESUsageInMinNode TRESUsageInMinTask TRESUsageInTot "
        "TRESUsageOutAve TRESUsageOutMax TRESUsageOutMaxNode TRESUsageOutMaxTask TRESUsageOutMin "
        "TRESUsageOutMinNode TRESUsageOutMinTask TRESUsageOutTot UID User UserCPU WCKey WCKeyID WorkDir"
    ).split()
}

STATES = JOB_STATES
STATE_MAP = {"OUT_OF_MEMORY": "FAILED", "NODE_FAIL": "FAILED", "BOOT_FAIL": "FAILED", "DEADLINE": "TIMEOUT"}
NOT_RUN = {
    "PENDING": "state PENDING: the job has not started",
    "REQUEUED": "state REQUEUED: this record was requeued; its run is in a later record",
    "SUSPENDED": "state SUSPENDED: the job is suspended",
    "RESIZING": "state RESIZING",
    "REVOKED": "state REVOKED: the job ran on another cluster (federation)",
    "SPECIAL_EXIT": "state SPECIAL_EXIT",
}
ALL_STATES = STATES + tuple(STATE_MAP) + tuple(NOT_RUN)
NO_VAL_J = 1e15  # ConsumedEnergyRaw above this is Slurm's NO_VAL64 / counter garbage

_DASHES = re.compile(r"^\s*-+(\s+-+)*\s*$")


# --------------------------------------------------------------------------------------------
# helpers (public: tested directly)


def expand_nodelist(text: str | None) -> list[str]:
    """Slurm hostlist -> host names: 'node[01-03,07]' -> node01 node02 node03 node07.

    Handles several bracket groups ('r[1-2]n[1-2]'), lists at top level ('gpu-[1-2],cpu3') and
    keeps zero padding. 'None assigned' and empty give []. Raises ValueError when malformed.
    """
    s = (text or "").strip()
    if not s or s.lower() in ("none assigned", "none", "(null)", "unknown"):
        return []
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ']' in NodeList {text!r}")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if depth != 0:
        raise ValueError(f"unbalanced '[' in NodeList {text!r}")
    parts.append(cur)
    hosts: list[str] = []
    for p in parts:
        p = p.strip()
        if p:
            hosts.extend(_expand_one(p, text))
    return hosts


def _expand_one(p: str, text: str | None) -> list[str]:
    m = re.search(r"\[([^\]]*)\]", p)
    if not m:
        return [p]
    prefix, body, rest = p[: m.start()], m.group(1), p[m.end() :]
    items: list[str] = []
    for r in body.split(","):
        r = r.strip()
        if re.fullmatch(r"\d+-\d+", r):
            a, b = r.split("-")
            if int(b) < int(a):
                raise ValueError(f"descending range {r!r} in NodeList {text!r}")
            items.extend(str(i).zfill(len(a)) for i in range(int(a), int(b) + 1))
        elif re.fullmatch(r"\d+", r):
            items.append(r)
        else:
            raise ValueError(f"cannot read range {r!r} in NodeList {text!r}")
    tails = _expand_one(rest, text)
    return [prefix + it + tail for it in items for tail in tails]


def gpu_count(tres: str | None) -> int:
    """GPUs in AllocTRES/AllocGRES: untyped gres/gpu=N wins; else the sum of typed gres/gpu:T=N."""
    s = tres or ""
    untyped = re.search(r"(?:^|,)\s*gres/gpu=(\d+)", s)
    if untyped:
        return int(untyped.group(1))
    typed = re.findall(r"(?:^|,)\s*gres/gpu:[^=,]+=(\d+)", s)
    if typed:
        return sum(int(x) for x in typed)
    gres = re.findall(r"(?:^|,)\s*gpu(?::[^:,()]+)?:(\d+)", s)  # AllocGRES 'gpu:2' / 'gpu:a100:2'
    return sum(int(x) for x in gres)


def normalise_state(raw: str | None, truncated: bool = False) -> tuple[str | None, str | None]:
    """'CANCELLED by 123' -> CANCELLED; 'CANCELLED+' (cut by fixed width) -> CANCELLED.

    Returns (contract state or None, import_error or None).
    """
    word = (raw or "").strip().split(" ")[0].upper()
    if truncated or word.endswith("+"):
        prefix = word.rstrip("+")
        hits = [s for s in ALL_STATES if s.startswith(prefix)] if prefix else []
        if len(hits) != 1:
            return None, f"state {raw!r} was cut by sacct's column width and is ambiguous"
        word = hits[0]
    if word in STATES:
        return word, None
    if word in STATE_MAP:
        return STATE_MAP[word], None
    if word in NOT_RUN:
        return None, NOT_RUN[word]
    return None, f"unknown state {raw!r}"


# --------------------------------------------------------------------------------------------
# reading the three layouts


def _fields_option(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        names = [str(v).strip() for v in value]
    else:
        names = [x.strip() for x in re.split(r"[|,\s]+", str(value)) if x.strip()]
    return names or None


def _canon(name: str) -> str:
    n = name.strip()
    return SACCT_FIELDS.get(n.lower(), n)


def _known(names: list[str]) -> int:
    return sum(1 for n in names if n.strip().lower() in SACCT_FIELDS)


def _read(ctx: FileContext) -> tuple[list[str], list[tuple[int, list[str], set[int]]], str]:
    """Returns (field names, [(line, values, indices of values cut with '+')], layout)."""
    text = ctx.path.read_bytes().replace(b"\x00", b"").decode("utf-8", errors="replace")
    lines = text.split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if lines and lines[-1] == "":
        lines.pop()
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        return [], [], "empty"
    opt_fields = _fields_option(ctx.options.get("fields"))
    delim = ctx.options.get("delimiter")
    first_no, first = numbered[0]
    second = numbered[1][1] if len(numbered) > 1 else ""

    if _DASHES.match(second) and not delim:
        spans = [(m.start(), m.end()) for m in re.finditer(r"-+", second)]
        starts = [a for a, _ in spans]

        def cut(line: str) -> tuple[list[str], set[int]]:
            vals, cut_idx = [], set()
            for i, (a, b) in enumerate(spans):
                end = starts[i + 1] if i + 1 < len(spans) else len(line)
                v = line[a:end].strip()
                if v.endswith("+") and len(line[a:b].rstrip()) >= b - a and line[a:b].rstrip().endswith("+"):
                    cut_idx.add(i)
                vals.append(v)
            return vals, cut_idx

        names_raw, _ = cut(first)
        names = []
        for n in names_raw:
            if n.endswith("+"):
                hits = [v for k, v in SACCT_FIELDS.items() if k.startswith(n[:-1].lower())]
                names.append(hits[0] if len(hits) == 1 else n)
            else:
                names.append(_canon(n))
        rows = []
        header_repeats = 0
        for no, ln in numbered[2:]:
            if ln.strip() == first.strip() or _DASHES.match(ln):
                header_repeats += 1
                continue
            vals, cut_idx = cut(ln)
            rows.append((no, vals, cut_idx))
        if header_repeats:
            ctx.note(f"{header_repeats} repeated header/dash line(s) skipped (not data rows)")
        return names, rows, "fixed-width"

    sep = str(delim) if delim else ("|" if "|" in first else ",")
    first_vals = first.split(sep)
    if _known(first_vals) >= 2:
        names = [_canon(n) for n in first_vals]
        body = numbered[1:]
        layout = "parsable with header"
        header_text = first.strip()
    elif opt_fields is not None:
        names = [_canon(n) for n in opt_fields]
        body = numbered
        layout = "parsable without header (fields from option sacct.fields)"
        header_text = None
    elif "|" in first:
        names = []
        body = numbered
        layout = "parsable without header"
        header_text = None
    else:
        raise ImporterError(
            f"{ctx.path}: line {first_no} is not a sacct header (no known sacct field names, no '|' and no "
            "dashes line under it); export with sacct --parsable2 -o JobID,JobName,Account,State,Start,End,"
            "NodeList,AllocTRES,ConsumedEnergyRaw"
        )
    trailing = bool(names) and names[-1] == ""  # --parsable ends every line with the delimiter
    if trailing:
        names = names[:-1]
    rows = []
    header_repeats = 0
    for no, ln in body:
        if header_text is not None and ln.strip() == header_text:
            header_repeats += 1
            continue
        vals = ln.split(sep)
        if trailing and vals and vals[-1] == "":
            vals = vals[:-1]
        rows.append((no, vals, set()))
    if header_repeats:
        ctx.note(f"{header_repeats} repeated header line(s) skipped (not data rows)")
    return names, rows, layout


# --------------------------------------------------------------------------------------------


def run(ctx: FileContext) -> ImportedFile:
    """Read the export, fold steps into their jobs, normalise each job, write jobs and allocations."""
    rec = ctx.record
    opts = _options(ctx)
    names, rows, layout = _read(ctx)
    rec.rows_in = len(rows)
    if not rows:
        rec.notes.append("no data rows; nothing written")
        return rec
    ctx.note(f"layout: {layout}")
    fields = _Fields(names)
    file_errors = _file_errors(ctx, fields)
    jobs, steps = _split_steps(rows, fields)
    orphans = _fold_steps(rec, jobs, steps, rows, fields)
    ids, changed = unique_ids([j["id"] for j in jobs], lambda i: f"{ctx.path.stem}:{jobs[i]['line']}")
    if changed:
        ctx.note(f"{changed} repeated JobID(s) (e.g. requeued jobs) made unique with a '#n' suffix in file order")
    out = _Normalised()
    for job, job_id in zip(jobs, ids):
        _normalise_job(ctx, opts, fields, file_errors, job, job_id, out)
    _write(ctx, opts, fields, out, len(orphans))
    return rec


@dataclass(frozen=True)
class _Options:
    tz: str
    rules: list[dict]
    site: str | None
    now: datetime | None  # the End of still-running jobs


def _options(ctx: FileContext) -> _Options:
    opts = ctx.options
    tz = tz_name(opts)
    rules = compile_rules(opts.get("rules"), RULE_FIELDS, "JobName", "sacct")
    site = str(opts["site"]) if opts.get("site") else None
    now = None
    if opts.get("now") is not None:
        now_raw = opts["now"]
        now = parse_utc(now_raw.isoformat() if isinstance(now_raw, datetime) else str(now_raw), tz)
        if now is None:
            raise ImporterError(f"option sacct.now={now_raw!r} is not an ISO timestamp (e.g. 2025-09-30T12:00:00)")
    return _Options(tz, rules, site, now)


class _Fields:
    """The export's field names, looked up case-insensitively in each row."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.idx = {n.lower(): i for i, n in enumerate(names)}

    def has(self, name: str) -> bool:
        return name.lower() in self.idx

    def get(self, vals: list[str], name: str) -> str | None:
        i = self.idx.get(name.lower())
        if i is None or i >= len(vals):
            return None
        v = vals[i].strip()
        return v if v != "" else None

    def was_cut(self, cut_idx: set[int], name: str) -> bool:
        i = self.idx.get(name.lower())
        return i is not None and i in cut_idx


def _file_errors(ctx: FileContext, fields: _Fields) -> list[str]:
    """Errors that apply to every row: no header, or no Start/End/State field."""
    errors: list[str] = []
    if not fields.names:
        errors.append(
            "headerless sacct output: pass option sacct.fields with the -o field list in order "
            "(e.g. JobID|JobIDRaw|User|Account|State|Start|End|...)"
        )
    else:
        missing = [need for need in ("JobID", "State", "Start", "End") if not fields.has(need)]
        if fields.has("JobIDRaw") and "JobID" in missing:
            missing.remove("JobID")
        if any(m in missing for m in ("Start", "End", "State")):
            errors.append(
                f"export has no {', '.join(missing)} field(s); re-export with sacct --parsable2 "
                "-o JobID,JobName,Account,User,State,Start,End,NodeList,AllocTRES,ConsumedEnergyRaw"
            )
    if fields.names and not fields.has("JobID") and not fields.has("JobIDRaw"):
        ctx.note("no JobID field: job_id = <file stem>:<line>")
    return errors


def _split_steps(
    rows: list[tuple[int, list[str], set[int]]], fields: _Fields
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str | None, int]]]:
    """Job lines and step lines (`123.batch`, or a cut id continuing the job above it)."""
    jobs: list[dict[str, Any]] = []
    steps: list[tuple[int, str, str | None, int]] = []  # (row index, base id, current job, line)
    current_job: str | None = None
    has_id = fields.has("JobID") or fields.has("JobIDRaw")
    for r, (line, vals, cut_idx) in enumerate(rows):
        err = None
        if fields.names and len(vals) != len(fields.names):
            err = f"row has {len(vals)} fields, header has {len(fields.names)}"
        jid = fields.get(vals, "JobID") or fields.get(vals, "JobIDRaw")
        if jid is None and fields.names and has_id:
            err = join_errors(err, "empty JobID")
        is_step = False
        base = jid
        if jid is not None:
            cut = fields.was_cut(cut_idx, "JobID")
            core = jid[:-1] if cut else jid
            if "." in core:
                is_step, base = True, core.split(".", 1)[0]
            elif cut:
                part = fields.get(vals, "Partition")
                if (current_job is not None and current_job.startswith(core) and fields.has("Partition")
                        and part is None):
                    is_step, base = True, current_job
                else:
                    err = join_errors(
                        err,
                        f"JobID {jid!r} was cut by sacct's column width; re-export with --parsable2 "
                        "or -o JobID%30",
                    )
        if is_step:
            steps.append((r, base, current_job, line))
            continue
        if jid is not None and not fields.was_cut(cut_idx, "JobID"):
            current_job = jid
        jobs.append({"row": r, "line": line, "vals": vals, "cut": cut_idx, "id": jid, "err": err})
    return jobs, steps


def _fold_steps(
    rec: ImportedFile,
    jobs: list[dict[str, Any]],
    steps: list[tuple[int, str, str | None, int]],
    rows: list[tuple[int, list[str], set[int]]],
    fields: _Fields,
) -> list[tuple[int, str, int]]:
    """Fold steps into their job (counted in rows_folded); a step without its job becomes a flagged row."""
    by_id: dict[str, list[int]] = {}
    for j, job in enumerate(jobs):
        if job["id"] is not None:
            by_id.setdefault(job["id"], []).append(j)
    orphans = []
    for r, base, _cur, line in steps:
        if by_id.get(base):
            rec.rows_folded += 1
        else:
            orphans.append((r, base, line))
    for r, base, line in orphans:
        line_, vals, cut_idx = rows[r]
        jobs.append(
            {"row": r, "line": line_, "vals": vals, "cut": cut_idx, "id": fields.get(vals, "JobID"),
             "err": f"job step without its job line in this file (job {base})", "orphan": True}
        )
    jobs.sort(key=lambda j: j["row"])
    return orphans


@dataclass
class _Normalised:
    job_rows: list[tuple] = field(default_factory=list)
    alloc_rows: list[tuple] = field(default_factory=list)
    flagged: int = 0
    zero_energy: int = 0
    no_val: int = 0
    names_cut: int = 0
    alloc_notes: list[str] = field(default_factory=list)
    any_alloc: bool = False


_UNSET = (None, "Unknown", "None")


def _times(opts: _Options, fields: _Fields, vals: list[str], state: str | None, errs: list[str | None],
           check: bool) -> tuple[datetime | None, datetime | None]:
    """Start and End in UTC; with `check`, the reason each is missing or wrong goes to errs."""
    start_txt, end_txt = fields.get(vals, "Start"), fields.get(vals, "End")
    start = parse_utc(start_txt, opts.tz) if start_txt not in _UNSET else None
    end = parse_utc(end_txt, opts.tz) if end_txt not in _UNSET else None
    if not check:
        return start, end
    if fields.has("Start") and start is None:
        if start_txt not in _UNSET:
            errs.append(f"Start '{start_txt}' not understood")
        elif state == "CANCELLED":
            errs.append(f"Start={start_txt or 'empty'}: cancelled before it started")
        else:
            errs.append(f"Start={start_txt or 'empty'}")
    if fields.has("End") and end is None:
        if end_txt not in _UNSET:
            errs.append(f"End '{end_txt}' not understood")
        elif state == "RUNNING" and opts.now is not None:
            end = opts.now
        elif state == "RUNNING":
            errs.append("End=Unknown (still running); pass sacct.now")
        else:
            errs.append(f"End={end_txt or 'empty'}")
    if start is not None and end is not None and end < start:
        errs.append("End before Start")
    return start, end


def _energy_kwh(fields: _Fields, vals: list[str], errs: list[str | None], out: _Normalised) -> float | None:
    """ConsumedEnergyRaw in kWh; 0 and Slurm's NO_VAL mean not measured (counted for the notes)."""
    e_raw = fields.get(vals, "ConsumedEnergyRaw")
    consumed = fields.get(vals, "ConsumedEnergy")
    if e_raw is None and consumed and re.fullmatch(r"\d+(\.\d+)?", consumed):
        e_raw = consumed
    if e_raw is None:
        return None
    try:
        joules = float(e_raw)
    except ValueError:
        errs.append(f"ConsumedEnergyRaw '{e_raw}' is not a number")
        return None
    if joules >= NO_VAL_J or joules < 0:
        out.no_val += 1
    elif joules == 0:
        out.zero_energy += 1
    else:
        return joules / 3.6e6
    return None


def _normalise_job(ctx: FileContext, opts: _Options, fields: _Fields, file_errors: list[str],
                   job: dict[str, Any], job_id: str, out: _Normalised) -> None:
    """One contract jobs row for the job line, and its allocations (GPUs split evenly over its nodes)."""
    vals, cut_idx = job["vals"], job["cut"]
    errs: list[str | None] = list(file_errors) + [job["err"]]
    state_raw = fields.get(vals, "State")
    state, state_err = normalise_state(state_raw, fields.was_cut(cut_idx, "State"))
    if state_raw is None and fields.names:
        state_err = "empty State" if fields.has("State") else None
    check = not job.get("orphan") and bool(fields.names)
    if check:
        errs.append(state_err)
    check = check and (state_err is None or not state_err.startswith("state PENDING"))
    start, end = _times(opts, fields, vals, state, errs, check)
    energy_kwh = _energy_kwh(fields, vals, errs, out)
    if fields.was_cut(cut_idx, "JobName"):
        out.names_cut += 1
    mapped = apply_rules(opts.rules, {f: fields.get(vals, f) for f in RULE_FIELDS})
    model, stage = mapped if mapped is not None else ("", "other")
    nodelist = fields.get(vals, "NodeList")
    tres = fields.get(vals, "AllocTRES") or fields.get(vals, "AllocGRES")
    n_gpus = gpu_count(tres) if tres else 0
    error = join_errors(*errs)
    out.flagged += error is not None
    out.job_rows.append(
        (
            job_id, model or "", stage or "other", state, fmt_utc(start), fmt_utc(end), fields.get(vals, "Account"),
            fields.get(vals, "User"), opts.site, energy_kwh, fields.get(vals, "Partition"),
            fields.get(vals, "JobName"), state_raw, n_gpus if tres else None, nodelist, ctx.origin, job["line"], error,
        )
    )
    if n_gpus and not job.get("orphan"):
        _allocate(ctx, job_id, n_gpus, nodelist, job["line"], error, out)


def _allocate(ctx: FileContext, job_id: str, n_gpus: int, nodelist: str | None, line: int,
              error: str | None, out: _Normalised) -> None:
    try:
        hosts = expand_nodelist(nodelist)
    except ValueError as exc:
        out.alloc_notes.append(f"job {job_id}: {exc}; no allocations written")
        return
    if not hosts:
        return
    if n_gpus % len(hosts):
        out.alloc_notes.append(
            f"job {job_id}: {n_gpus} GPUs over {len(hosts)} nodes do not split evenly; no allocations written"
        )
        return
    out.any_alloc = True
    per_node = n_gpus // len(hosts)
    a_err = f"job row flagged: {error}" if error else None
    for h in hosts:
        for g in range(per_node):
            out.alloc_rows.append((job_id, h, g, None, None, ctx.origin, line, a_err))


def _write(ctx: FileContext, opts: _Options, fields: _Fields, out: _Normalised, orphans: int) -> None:
    rec = ctx.record
    write_primary(ctx, "jobs", JOB_COLUMNS, out.job_rows, out.flagged)
    if out.alloc_rows:
        write_rows(ctx, "allocations", ALLOC_COLUMNS, out.alloc_rows)
    if out.any_alloc:
        ctx.note("gpu indices assumed 0..k-1 on each node (sacct gives GPU counts per node, not indices)")
    note_first(ctx, out.alloc_notes, 20, "jobs without allocations")
    if rec.rows_folded:
        ctx.note(f"{rec.rows_folded} job step line(s) folded into their job")
    if orphans:
        ctx.note(f"{orphans} step line(s) without their job line written as flagged rows")
    if out.zero_energy:
        ctx.note(f"{out.zero_energy} job(s) with ConsumedEnergyRaw=0 treated as not measured (energy_kwh empty)")
    if out.no_val:
        ctx.note(f"{out.no_val} job(s) with ConsumedEnergyRaw >= 1e15 J (Slurm NO_VAL) treated as not measured")
    if out.names_cut:
        ctx.note(f"{out.names_cut} JobName(s) cut by sacct's column width (end in '+'); rules see the cut name")
    if not opts.rules:
        ctx.note("no sacct.rules: model empty, stage other")
    if opts.tz == "UTC" and fields.has("Start"):
        ctx.note("Start/End have no UTC offset; taken as UTC (sacct prints cluster local time: set option timezone)")
