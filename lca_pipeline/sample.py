"""Deterministic, seeded sample data for the demo (``lca demo``).

:func:`generate_sample` writes a complete data directory that follows ``docs/data-contract.md``:
two sites, four 8-GPU compute hosts, storage and network hosts, ``days`` days of GPU and node
telemetry, a Slurm-like job mix with allocations, procurement records, hourly grid intensity,
a PPA, residual-mix factors, inference volumes, model metadata and an ``lca.toml``.
The same arguments always give byte-identical files. All times below are UTC and given for the
defaults (``start="2024-03-04"``, ``days=3``, ``interval_s=10``); ``D0`` is the first day, ``D1`` the
second day (the first day when ``days == 1``) and ``DL`` the last day.

Layout
------
- ``gpu_samples/part-YYYY-MM-DD.parquet`` and ``node_samples/part-YYYY-MM-DD.parquet``: one file per
  UTC day, ``ts`` a timezone-naive UTC ``timestamp[us]``, rows ordered by host, gpu/component, ts.
  Stale ``part-*.parquet`` files in those two folders are removed first.
- ``hosts.csv``, ``jobs.csv``, ``allocations.csv``, ``hardware.csv``, ``sites.csv``,
  ``grid_intensity.csv``, ``energy_contracts.csv``, ``residual_mix.csv``, ``inference_usage.csv``,
  ``models.csv``: ISO-8601 timestamps with ``Z``, empty cell = NULL.
- ``lca.toml``: ``[stages] map = { pretrain = "training" }``.

Fleet
-----
- ``site-a`` (zone ``DE``): PUE 1.38 until the middle of the period (``D0 + days*12 h``, floored to the
  hour; 2024-03-05T12:00Z), 1.24 afterwards (free cooling enabled): two ``sites`` rows with
  ``valid_to`` / ``valid_from``. ``site-b`` (zone ``US-CAL-CISO``): PUE 1.16, one row without validity.
- Compute hosts ``a-gpu01``, ``a-gpu02`` (8 x H100-SXM5-80GB, TDP 700 W) and ``b-gpu01``, ``b-gpu02``
  (8 x A100-SXM4-80GB, TDP 400 W); ``a-stor01``, ``a-net01``, ``b-stor01``, ``b-net01`` report ``node``.
- ``node_samples``: ``a-gpu01`` and ``b-gpu01`` report ``cpu``, ``dram``, ``other`` (non-GPU parts);
  ``a-gpu02`` and ``b-gpu02`` report only ``node`` wall power (GPUs included, always above their sum).
  The node interval is the smallest multiple of ``interval_s`` that is >= 30 s.
- Each host's samples carry a fixed phase (a-gpu01 +0 s, a-gpu02 +3 s, b-gpu01 +6 s, b-gpu02 +8 s,
  storage/network +0 s; reduced modulo the interval), as unsynchronised collectors would.

Jobs
----
A seeded list scheduler fills each host (``b-gpu02`` is split into serving lanes) with jobs of
1, 2, 4 or 8 GPUs at second precision: ``pretrain`` (helios-7b) segments on ``a-gpu01`` with a 12 h
limit, helios-1b experiments/training/evaluation/data and ``other`` (empty model) on ``a-gpu02``,
helios-7b-chat post-training and kestrel-asr work on ``b-gpu01``, long inference jobs for
helios-7b-chat, helios-1b and kestrel-asr on ``b-gpu02``. The draw is repeated (deterministically)
until it holds every stage, the states COMPLETED, FAILED, CANCELLED, PREEMPTED and TIMEOUT, all four
job sizes, a GPU with two jobs in one clock hour, a job across midnight (when ``days >= 2``), an
allocation with its own start, and allocated GPU time between 62 % and 78 % of the total.
Jobs still running at the end of the period are ``RUNNING`` with ``end`` = end of period (the export
time). Job ids are numeric (site-a from 4812001, site-b from 2290001).

- One 2-GPU inference job on ``b-gpu02`` GPUs 0-1 starts its second replica later: that GPU's
  allocation row has explicit ``start`` (and ``end``); all other allocation rows leave them empty.
- ``cc-ws07-0001`` / ``cc-ws07-0002``: per-job measured energy (CodeCarbon on workstation ws07),
  ``site-b``, no allocation rows: 1.463 kWh (kestrel-asr experimentation, D0 09:12:05-12:40:47) and
  0.712 kWh (helios-1b data, D1 13:05:30-15:22:10).
- ``est-0001`` / ``est-0002``: estimate mode, no allocation rows, no energy_kwh.
  ``est-0001`` helios-7b-chat post_training at ``site-a`` on 4 x H100-SXM5-80GB, avg_power_w 540,
  D0 19:30:00-23:50:00. ``est-0002`` kestrel-asr evaluation at ``site-b`` on 2 x A100-SXM4-80GB with
  avg_power_w EMPTY (the pipeline must fall back to TDP x default utilisation), D1 08:00:00-10:30:00.

Telemetry events
----------------
- Outage: no ``gpu_samples`` and no ``node_samples`` for ``b-gpu02`` in [D1 14:10:00, D1 14:30:00)
  (2024-03-05T14:10Z-14:30Z; 120 missing samples per GPU at 10 s). The GPUs keep running, so the
  energy counter rises across the gap.
- Counter reset: ``a-gpu01`` GPU 3 at D1 06:00:00 + phase + 0.42 x interval (GPU reset during an idle
  maintenance window D1 05:40-06:20 in which the scheduler places no job on that GPU). Its
  ``energy_mj`` drops to near 0 there once; every other step of every counter increases.
- ``energy_mj`` is the integral of the (true) power curve plus a per-GPU starting offset, floored to mJ.

Defects (quarantine material; exactly these 6 rows)
---------------------------------------------------
1. ``gpu_samples`` a-gpu02 GPU 1 at D0 02:13:20 (+3 s phase, i.e. 2024-03-04T02:13:23): power_w -2.843
2. ``gpu_samples`` b-gpu01 GPU 6 at D1 17:41:40 (+6 s, 2024-03-05T17:41:46): power_w -0.512
3. ``gpu_samples`` a-gpu01 GPU 4 at DL 09:05:00 (+0 s, 2024-03-06T09:05:00): power_w -14.216
4. ``gpu_samples`` b-gpu02 GPU 0 at D0 21:30:00 (+8 s, 2024-03-04T21:30:08): power_w 99999.0
   (times are floored to the sampling grid for coarser intervals; energy_mj in these rows stays true)
5. ``allocations``: an extra row with unknown host ``a-gpu1`` (typo for a-gpu01) for the first job on
   ``a-gpu02`` that uses 2 or more GPUs, gpu = that job's first GPU.
6. ``jobs``: job cancelled while pending: ``start`` EMPTY, state CANCELLED, end D0 10:02:11; no
   allocation rows (a site-a id above all scheduled site-a ids).

Other inputs
------------
- ``grid_intensity``: hourly from D0 - 1 day to the end of the period + 1 day for ``DE`` and
  ``US-CAL-CISO``; daily solar dip at local midday, day-to-day weather swing; ``direct`` and
  ``lifecycle`` rows (lifecycle 15-23 % higher), kind ``average``, source
  ``synthetic (lca_pipeline.sample)``, estimated false. Missing hour: ``US-CAL-CISO`` at
  D0 + (days // 2) days + 07:00 (2024-03-05T07:00Z), both bases left out.
- ``hardware``: site-a servers carry the BLOOM server figure (2,500 kgCO2e, GPUs excluded) and site-a
  GPUs 1,312/8 = 164 kgCO2e each (NVIDIA HGX H100 baseboard PCF); nothing else carries PCF values
  (no published water/ADP numbers are used). Site-b is specs only: DGX A100 chassis (no data),
  2 x EPYC 7742 per host (592 mm^2 of 7 nm CCDs each), 16 x 64 GB DRAM, 4 x 3.84 TB SSD, A100 dies
  (826 mm^2, 7 nm, 80 GB). Site-a has no separate DRAM/SSD rows (inside the BLOOM server proxy).
  Storage/network are site-wide (host empty). ``STOR-B-00`` is retired early, on D0 + 1 day.
- ``energy_contracts``: one site-b wind PPA over exactly the telemetry period, 11 gCO2e/kWh, sized to
  40 % of site-b's facility energy (IT energy of its hosts x PUE 1.16) in that period.
- ``residual_mix``: DE 620 and US-CAL-CISO 310 gCO2e/kWh for every year the grid rows touch.
- ``inference_usage``: per served model (helios-7b-chat, helios-1b, kestrel-asr) and day, from the
  GPU-seconds of its inference allocations that day x a per-model rate; kestrel-asr has no tokens_in.
- ``models``: expected_lifetime_requests set for helios-1b and helios-7b-chat only.

Site PUE/WUE/EWIF, residual-mix and PPA factors are illustrative values, not measurements.
"""

from __future__ import annotations

import csv
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .contract import STAGES

__all__ = ["generate_sample", "INPUTS"]

INPUTS = (
    "gpu_samples",
    "node_samples",
    "hosts",
    "jobs",
    "allocations",
    "hardware",
    "sites",
    "grid_intensity",
    "energy_contracts",
    "residual_mix",
    "inference_usage",
    "models",
)

UNKNOWN_STAGE = "pretrain"
STAGE_MAP = {UNKNOWN_STAGE: "training"}
GRID_SOURCE = "synthetic (lca_pipeline.sample)"

DAY_S = 86_400
HOUR_S = 3_600

# host -> (site, role, gpu_model, phase_s)
HOSTS: dict[str, tuple[str, str, str | None, int]] = {
    "a-gpu01": ("site-a", "compute", "H100-SXM5-80GB", 0),
    "a-gpu02": ("site-a", "compute", "H100-SXM5-80GB", 3),
    "b-gpu01": ("site-b", "compute", "A100-SXM4-80GB", 6),
    "b-gpu02": ("site-b", "compute", "A100-SXM4-80GB", 8),
    "a-stor01": ("site-a", "storage", None, 0),
    "a-net01": ("site-a", "network", None, 0),
    "b-stor01": ("site-b", "storage", None, 0),
    "b-net01": ("site-b", "network", None, 0),
}
COMPUTE_HOSTS = ("a-gpu01", "a-gpu02", "b-gpu01", "b-gpu02")
COMPONENT_HOSTS = ("a-gpu01", "b-gpu01")  # report cpu/dram/other; the others report node
GPUS_PER_HOST = 8
ZONES = {"site-a": "DE", "site-b": "US-CAL-CISO"}
ZONE_TZ = {"DE": "Europe/Berlin", "US-CAL-CISO": "America/Los_Angeles"}

# gpu_model -> (TDP W, idle W range, memory MiB as nvidia-smi reports it)
GPU_SPECS = {
    "H100-SXM5-80GB": (700.0, (70.0, 84.0), 81559.0),
    "A100-SXM4-80GB": (400.0, (60.0, 68.0), 81920.0),
}
# host -> (cpu idle W, cpu W per busy GPU, dram idle W, dram W per busy GPU, other base W, other share of GPU W)
NODE_MODEL = {
    "a-gpu01": (190.0, 38.0, 95.0, 7.0, 650.0, 0.12),
    "a-gpu02": (185.0, 38.0, 95.0, 7.0, 640.0, 0.12),
    "b-gpu01": (150.0, 30.0, 62.0, 5.0, 450.0, 0.10),
    "b-gpu02": (155.0, 30.0, 62.0, 5.0, 460.0, 0.10),
}
# storage/network host -> (base W, W per busy GPU at the site, noise W)
INFRA_MODEL = {
    "a-stor01": (1050.0, 6.0, 12.0),
    "a-net01": (720.0, 2.5, 5.0),
    "b-stor01": (780.0, 5.0, 10.0),
    "b-net01": (410.0, 2.0, 4.0),
}
SITE_ROWS = {  # site -> (pue before change, pue after change or None, wue, ewif)
    "site-a": (1.38, 1.24, 0.20, 1.6),
    "site-b": (1.16, None, 1.10, 2.2),
}

RESET_GPU = ("a-gpu01", 3)
OUTAGE_HOST = "b-gpu02"
OUTAGE_WINDOW_S = (14 * HOUR_S + 10 * 60, 14 * HOUR_S + 30 * 60)  # within day D1
RESET_BLOCK_S = (5 * HOUR_S + 40 * 60, 6 * HOUR_S + 20 * 60)  # within day D1
RESET_AT_S = 6 * HOUR_S  # within day D1, plus phase and 0.42 x interval
UNKNOWN_ALLOC_HOST = "a-gpu1"
MISSING_GRID_ZONE = "US-CAL-CISO"
MISSING_GRID_HOUR_S = 7 * HOUR_S  # within day days // 2
# (host, gpu, day selector, seconds into that day, bad power_w)
POWER_DEFECTS = (
    ("a-gpu02", 1, "D0", 2 * HOUR_S + 13 * 60 + 20, -2.843),
    ("b-gpu01", 6, "D1", 17 * HOUR_S + 41 * 60 + 40, -0.512),
    ("a-gpu01", 4, "DL", 9 * HOUR_S + 5 * 60, -14.216),
    ("b-gpu02", 0, "D0", 21 * HOUR_S + 30 * 60, 99999.0),
)
STATES_REQUIRED = ("COMPLETED", "FAILED", "CANCELLED", "PREEMPTED", "TIMEOUT")
UTILISATION_RANGE = (0.62, 0.78)

MODELS = (  # model, family, expected_lifetime_requests, parameters
    ("helios-1b", "helios", 5.0e8, 1.1e9),
    ("helios-7b", "helios", None, 6.9e9),
    ("helios-7b-chat", "helios", 3.0e9, 6.9e9),
    ("kestrel-asr", "kestrel", None, 3.1e8),
)
# served model -> (requests per GPU-second, tokens_in per request or None, tokens_out per request)
SERVING = {
    "helios-7b-chat": (2.2, 850.0, 310.0),
    "helios-1b": (9.0, 400.0, 120.0),
    "kestrel-asr": (4.0, None, 95.0),
}
USERS = {
    "helios": ("alice", "bob", "carol", "dave"),
    "kestrel": ("erin", "frank"),
    "platform": ("grace",),
}

BLOOM_SERVER_SRC = (
    "Luccioni, Viguier, Ligozat 2023 (BLOOM, JMLR): server ~2,500 kgCO2e excluding GPUs "
    "(HPE server used as proxy)"
)
NVIDIA_HGX_SRC = (
    "NVIDIA HGX H100 8-GPU baseboard PCF summary (ISO 14067): 1,312 kgCO2e cradle-to-gate "
    "per baseboard; 1,312 / 8 per GPU"
)


# --------------------------------------------------------------------------------------------
# job scheduling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tpl:
    stage: str
    model: str
    project: str
    sizes: tuple[int, ...]
    size_w: tuple[float, ...]
    dur_min: tuple[float, float, float, float]  # median, lognormal sigma, min, max (minutes)
    level: tuple[float, float]  # mean busy power as a fraction of TDP
    mem: tuple[float, float]  # memory used as a fraction of the GPU's memory
    pattern: str  # train, eval, data, infer, burn
    states: tuple[tuple[str, float], ...]
    limit_min: float | None = None


@dataclass(frozen=True)
class _Lane:
    host: str
    gpus: tuple[int, ...]
    mix: tuple[tuple[float, _Tpl], ...]
    p_short_gap: float
    short_gap_min: tuple[float, float]
    long_gap_mean_min: float
    autoscale: bool = False


@dataclass
class _Job:
    host: str
    gpus: tuple[int, ...]
    tpl: _Tpl
    state: str
    start: int  # seconds from the start of the period
    end: int
    params: dict[str, float]
    alloc_override: dict[int, tuple[int, int]] = field(default_factory=dict)
    job_id: str = ""
    user: str = ""


def _t(stage, model, project, sizes, size_w, dur, level, mem, pattern, states, limit=None) -> _Tpl:
    return _Tpl(stage, model, project, tuple(sizes), tuple(size_w), dur, level, mem, pattern,
                tuple(states.items()), limit)


def _lanes() -> list[_Lane]:
    pretrain = _t(UNKNOWN_STAGE, "helios-7b", "helios", (8,), (1,), (540, 0.35, 60, 720), (0.84, 0.92),
                  (0.88, 0.97), "train",
                  {"COMPLETED": .58, "TIMEOUT": .18, "PREEMPTED": .12, "FAILED": .08, "CANCELLED": .04}, 720)
    sweep7 = _t("experimentation", "helios-7b", "helios", (4, 8), (.5, .5), (75, 0.6, 10, 240),
                (0.70, 0.88), (0.6, 0.95), "train",
                {"COMPLETED": .55, "FAILED": .2, "CANCELLED": .2, "TIMEOUT": .05}, 240)
    eval7 = _t("evaluation", "helios-7b", "helios", (1, 2, 4), (.4, .3, .3), (35, 0.5, 8, 120),
               (0.55, 0.72), (0.3, 0.7), "eval", {"COMPLETED": .9, "FAILED": .05, "CANCELLED": .05})
    exp1 = _t("experimentation", "helios-1b", "helios", (1, 2, 4), (.5, .3, .2), (70, 0.7, 5, 300),
              (0.60, 0.85), (0.35, 0.9), "train",
              {"COMPLETED": .6, "FAILED": .18, "CANCELLED": .17, "TIMEOUT": .05}, 360)
    train1 = _t("training", "helios-1b", "helios", (8,), (1,), (300, 0.35, 60, 600), (0.82, 0.90),
                (0.7, 0.9), "train", {"COMPLETED": .75, "FAILED": .1, "PREEMPTED": .1, "CANCELLED": .05}, 600)
    data7 = _t("data", "helios-7b", "helios", (2, 4), (.6, .4), (120, 0.4, 30, 300), (0.55, 0.65),
               (0.2, 0.5), "data", {"COMPLETED": .9, "FAILED": .1})
    eval1 = _t("evaluation", "helios-1b", "helios", (1, 2), (.7, .3), (25, 0.5, 6, 90), (0.55, 0.72),
               (0.15, 0.4), "eval", {"COMPLETED": .9, "FAILED": .05, "CANCELLED": .05})
    other = _t("other", "", "platform", (1, 8), (.8, .2), (20, 0.6, 3, 90), (0.60, 0.95), (0.05, 0.9),
               "burn", {"COMPLETED": .8, "FAILED": .1, "CANCELLED": .1})
    post = _t("post_training", "helios-7b-chat", "helios", (4, 8), (.5, .5), (240, 0.4, 30, 480),
              (0.72, 0.88), (0.8, 0.97), "train",
              {"COMPLETED": .65, "TIMEOUT": .1, "FAILED": .12, "PREEMPTED": .05, "CANCELLED": .08}, 480)
    eval_chat = _t("evaluation", "helios-7b-chat", "helios", (1, 2), (.6, .4), (35, 0.5, 8, 120),
                   (0.55, 0.72), (0.3, 0.7), "eval", {"COMPLETED": .9, "FAILED": .05, "CANCELLED": .05})
    train_asr = _t("training", "kestrel-asr", "kestrel", (4,), (1,), (360, 0.35, 60, 720), (0.80, 0.90),
                   (0.6, 0.85), "train", {"COMPLETED": .7, "TIMEOUT": .1, "FAILED": .1, "PREEMPTED": .1}, 720)
    exp_asr = _t("experimentation", "kestrel-asr", "kestrel", (1, 2), (.6, .4), (60, 0.6, 8, 240),
                 (0.60, 0.85), (0.3, 0.8), "train", {"COMPLETED": .65, "FAILED": .2, "CANCELLED": .15})
    data_asr = _t("data", "kestrel-asr", "kestrel", (1, 2), (.6, .4), (90, 0.4, 20, 240), (0.55, 0.65),
                  (0.1, 0.4), "data", {"COMPLETED": .92, "FAILED": .08})
    eval_asr = _t("evaluation", "kestrel-asr", "kestrel", (1,), (1,), (30, 0.5, 8, 120), (0.55, 0.70),
                  (0.2, 0.5), "eval", {"COMPLETED": .9, "FAILED": .05, "CANCELLED": .05})
    serve_chat = _t("inference", "helios-7b-chat", "helios", (2,), (1,), (600, 0.4, 120, 1440),
                    (0.58, 0.72), (0.85, 0.95), "infer", {"COMPLETED": .85, "FAILED": .1, "CANCELLED": .05})
    serve_asr = _t("inference", "kestrel-asr", "kestrel", (1,), (1,), (480, 0.4, 120, 1440), (0.55, 0.66),
                   (0.3, 0.5), "infer", {"COMPLETED": .88, "FAILED": .12})
    serve_1b = _t("inference", "helios-1b", "helios", (1,), (1,), (540, 0.4, 120, 1440), (0.55, 0.64),
                  (0.25, 0.45), "infer", {"COMPLETED": .9, "FAILED": .1})
    g8 = tuple(range(8))
    return [
        _Lane("a-gpu01", g8, ((.62, pretrain), (.23, sweep7), (.15, eval7)), .6, (1, 6), 50),
        _Lane("a-gpu02", g8, ((.35, exp1), (.15, train1), (.12, data7), (.28, eval1), (.10, other)),
              .45, (1, 8), 75),
        _Lane("b-gpu01", g8, ((.25, post), (.25, eval_chat), (.2, train_asr), (.2, exp_asr), (.1, data_asr)),
              .45, (1, 8), 80),
        _Lane("b-gpu02", (0, 1), ((1.0, serve_chat),), .85, (0.5, 4), 90, autoscale=True),
        _Lane("b-gpu02", (2, 3), ((1.0, serve_chat),), .5, (0.5, 4), 180),
        _Lane("b-gpu02", (4,), ((1.0, serve_asr),), .6, (0.5, 4), 150),
        _Lane("b-gpu02", (5,), ((1.0, serve_1b),), .6, (0.5, 4), 150),
        _Lane("b-gpu02", (6, 7), ((.35, eval_asr), (.25, exp_asr), (.15, other), (.25, data_asr)),
              .3, (1, 10), 90),
    ]


def _pick(rng: np.random.Generator, items, weights):
    w = np.asarray(weights, dtype=float)
    return items[int(rng.choice(len(items), p=w / w.sum()))]


def _job_params(rng: np.random.Generator, tpl: _Tpl) -> dict[str, float]:
    return {
        "level": float(rng.uniform(*tpl.level)),
        "mem": float(rng.uniform(*tpl.mem)),
        "ramp_s": float(rng.uniform(60, 300)),
        "ckpt_period_s": float(rng.uniform(1800, 3600)),
        "ckpt_phase_s": float(rng.uniform(0, 1800)),
        "ckpt_len_s": float(rng.uniform(45, 150)),
        "half_period_s": float(rng.uniform(120, 480)),
        "swing": float(rng.uniform(0.05, 0.09)),
        "diurnal_amp": float(rng.uniform(0.07, 0.12)),
    }


def _schedule_lane(rng: np.random.Generator, lane: _Lane, period_s: int,
                   blocked: list[tuple[str, int, int, int]]) -> list[_Job]:
    jobs: list[_Job] = []
    free = {g: float(rng.uniform(0, 20 * 60)) for g in lane.gpus}
    forced_autoscale = lane.autoscale
    while any(v < period_s for v in free.values()):
        tpl = _pick(rng, [t for _, t in lane.mix], [w for w, _ in lane.mix])
        sizes = [s for s in tpl.sizes if s <= len(lane.gpus)]
        size = _pick(rng, sizes, [tpl.size_w[tpl.sizes.index(s)] for s in sizes])
        groups = [lane.gpus[i:i + size] for i in range(0, len(lane.gpus), size)]
        grp = min(groups, key=lambda g: (max(free[x] for x in g), g[0]))
        ready = max(free[x] for x in grp)
        if ready >= period_s:
            for x in grp:
                free[x] = math.inf
            continue
        if rng.random() < lane.p_short_gap:
            gap = rng.uniform(*lane.short_gap_min) * 60
        else:
            gap = rng.exponential(lane.long_gap_mean_min) * 60
        start = int(round(ready + gap))
        med, sigma, lo, hi = tpl.dur_min
        full = float(np.clip(med * math.exp(sigma * rng.standard_normal()), lo, hi)) * 60
        state = _pick(rng, [s for s, _ in tpl.states], [p for _, p in tpl.states])
        if state == "TIMEOUT":
            dur = tpl.limit_min * 60 + rng.uniform(20, 90)  # killed after the limit plus grace
        elif state == "FAILED":
            dur = full * rng.uniform(0.02, 0.6)
        elif state == "CANCELLED":
            dur = full * rng.uniform(0.05, 0.8)
        elif state == "PREEMPTED":
            dur = full * rng.uniform(0.2, 0.9)
        else:
            dur = full
        dur = max(int(round(dur)), 60)
        for bhost, bgpu, bs, be in blocked:
            if bhost == lane.host and bgpu in grp and start < be and start + dur > bs:
                start = be + int(rng.uniform(60, 600))
        if start >= period_s:
            for x in grp:
                free[x] = math.inf
            continue
        end = start + dur
        if end > period_s:
            if period_s - start < 30 * 60 and tpl.pattern != "infer":
                for x in grp:
                    free[x] = math.inf
                continue
            state, end = "RUNNING", period_s
        job = _Job(lane.host, tuple(grp), tpl, state, start, end, _job_params(rng, tpl))
        if lane.autoscale and len(grp) == 2 and end - start > 3 * HOUR_S and (
                forced_autoscale or rng.random() < 0.35):
            forced_autoscale = False
            a_start = start + int((end - start) * rng.uniform(0.15, 0.4))
            job.alloc_override[grp[1]] = (a_start, end)
        jobs.append(job)
        for x in grp:
            free[x] = end
    return jobs


def _allocations(jobs: list[_Job]):
    """Yield (job index, host, gpu, alloc start, alloc end, explicit?) for every allocation."""
    for j, job in enumerate(jobs):
        for g in job.gpus:
            if g in job.alloc_override:
                s, e = job.alloc_override[g]
                yield j, job.host, g, s, e, True
            else:
                yield j, job.host, g, job.start, job.end, False


def _features_ok(jobs: list[_Job], period_s: int, days: int) -> bool:
    stages = {j.tpl.stage for j in jobs}
    if not set(STAGES) | {UNKNOWN_STAGE} <= stages:
        return False
    if not set(STATES_REQUIRED) <= {j.state for j in jobs}:
        return False
    if not {1, 2, 4, 8} <= {len(j.gpus) for j in jobs}:
        return False
    if days >= 2 and not any(j.start // DAY_S != (j.end - 1) // DAY_S for j in jobs):
        return False
    allocs = list(_allocations(jobs))
    if not any(a[5] for a in allocs):
        return False
    used = sum(a[4] - a[3] for a in allocs)
    util = used / (len(COMPUTE_HOSTS) * GPUS_PER_HOST * period_s)
    if not UTILISATION_RANGE[0] <= util <= UTILISATION_RANGE[1]:
        return False
    per_hour: dict[tuple[str, int, int], set[int]] = {}
    for j, host, g, s, e, _ in allocs:
        for h in range(s // HOUR_S, (e - 1) // HOUR_S + 1):
            per_hour.setdefault((host, g, h), set()).add(j)
    return any(len(v) >= 2 for v in per_hour.values())


def _schedule(seed: int, period_s: int, days: int) -> list[_Job]:
    d1 = min(1, days - 1) * DAY_S
    blocked = [(RESET_GPU[0], RESET_GPU[1], d1 + RESET_BLOCK_S[0], d1 + RESET_BLOCK_S[1])]
    lanes = _lanes()
    jobs: list[_Job] = []
    for attempt in range(200):
        rng = np.random.default_rng([seed, 1, attempt])
        jobs = []
        for lane in lanes:
            jobs.extend(_schedule_lane(rng, lane, period_s, blocked))
        if _features_ok(jobs, period_s, days):
            break  # otherwise (never seen in practice) the last draw is kept rather than failing the demo
    jobs.sort(key=lambda j: (j.start, j.host, j.gpus[0]))
    rng = np.random.default_rng([seed, 2])
    next_id = {"site-a": 4812001, "site-b": 2290001}
    for job in jobs:
        site = HOSTS[job.host][0]
        job.job_id = str(next_id[site])
        next_id[site] += int(rng.integers(1, 40))  # other users' CPU jobs take ids in between
        job.user = _pick(rng, USERS[job.tpl.project], [1] * len(USERS[job.tpl.project]))
    return jobs


# --------------------------------------------------------------------------------------------
# telemetry
# --------------------------------------------------------------------------------------------


def _smooth(z: np.ndarray, tau_samples: float) -> np.ndarray:
    """Causal exponential smoothing by convolution, keeping the input's standard deviation."""
    if tau_samples < 1:
        return z
    k = np.exp(-np.arange(int(5 * tau_samples) + 1) / tau_samples)
    k /= np.sqrt((k * k).sum())
    return np.convolve(z, k)[: z.size]


def _gpu_series(t: np.ndarray, allocs: list[tuple[int, int, int]], jobs: list[_Job], tdp: float,
                idle_w: float, mem_total: float, interval_s: int, t0_hour_utc: float,
                rng: np.random.Generator):
    """Power, utilisation, memory and job index (-1 idle) of one GPU at sample times ``t`` (s)."""
    n = t.size
    job_idx = np.full(n, -1, dtype=np.int32)
    frac = np.zeros(n)
    mem_frac = np.zeros(n)
    noise_scale = np.zeros(n)
    for s, e, j in allocs:
        i0, i1 = np.searchsorted(t, [s, e], side="left")
        if i1 <= i0:
            continue
        job, p = jobs[j], jobs[j].params
        tt = t[i0:i1]
        tau = tt - jobs[j].start
        level = p["level"] * float(rng.normal(1.0, 0.015))  # silicon / cooling spread per GPU
        f = np.full(tt.size, level)
        pat = job.tpl.pattern
        if pat == "train":
            dip = ((tau - p["ckpt_phase_s"]) % p["ckpt_period_s"]) < p["ckpt_len_s"]
            f[dip & (tau > p["ramp_s"])] = 0.30
        elif pat == "eval":
            f += np.where((tau // p["half_period_s"]) % 2 == 0, p["swing"], -p["swing"])
        elif pat == "infer":
            hour = (t0_hour_utc + tt / HOUR_S) % 24
            f += p["diurnal_amp"] * np.cos(2 * np.pi * (hour - 20.0) / 24)  # US afternoon peak
        since = tt - s
        ramp = since < p["ramp_s"]
        f[ramp] = 0.22 + (f[ramp] - 0.22) * since[ramp] / p["ramp_s"]
        m = np.full(tt.size, p["mem"])
        m[ramp] *= np.maximum(since[ramp] / p["ramp_s"], 0.05)
        job_idx[i0:i1] = j
        frac[i0:i1] = f
        mem_frac[i0:i1] = m
        noise_scale[i0:i1] = 0.045 if pat in ("data", "infer") else 0.025
    busy = job_idx >= 0
    tau_samples = 60.0 / interval_s
    smooth = _smooth(rng.standard_normal(n), tau_samples)
    white = rng.standard_normal(n)
    idle = idle_w + 1.5 * _smooth(rng.standard_normal(n), 300.0 / interval_s) + 1.0 * white
    power_busy = tdp * (frac + noise_scale * smooth + 0.008 * white)
    power = np.where(busy, np.clip(power_busy, idle_w + 8.0, 0.995 * tdp), idle)
    power = np.round(power, 3)  # NVML reports milliwatts
    load = np.clip((power - idle_w) / (tdp - idle_w), 0.0, 1.0)
    util = np.where(busy, np.clip(np.round(100 * (0.35 + 0.75 * load) + 3 * rng.standard_normal(n)), 0, 100), 0.0)
    mem = np.where(busy, np.round(mem_frac * mem_total + 150 * rng.standard_normal(n) * (mem_frac > 0)),
                   rng.integers(0, 6, n).astype(float))
    mem = np.clip(mem, 0, mem_total)
    return power, util, mem, job_idx


def _energy_counter(power: np.ndarray, interval_s: int, offset_mj: float,
                    reset_pos: float | None = None) -> np.ndarray:
    """NVML-style cumulative energy (mJ) of the power curve; optional reset at fractional index."""
    inc = np.empty_like(power)
    inc[0] = 0.0
    inc[1:] = (power[1:] + power[:-1]) * 0.5 * interval_s * 1000.0
    e = offset_mj + np.cumsum(inc)
    if reset_pos is not None:
        r = int(math.floor(reset_pos)) + 1
        at_reset = e[r - 1] + (reset_pos - (r - 1)) * (e[r] - e[r - 1])
        e[r:] -= at_reset
    return np.floor(e)


# --------------------------------------------------------------------------------------------
# output helpers
# --------------------------------------------------------------------------------------------


def _iso(t0: pd.Timestamp, s: float | None) -> str:
    if s is None:
        return ""
    return (t0 + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> int:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(v) for v in r])
    return len(rows)


def _str_column(codes: np.ndarray, values: list[str]) -> pa.Array:
    mask = codes < 0
    idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(idx, pa.array(values, pa.string())).cast(pa.string())


def _write_parquet_days(folder: Path, t0: pd.Timestamp, days: int, ts_s: np.ndarray,
                        columns: dict[str, pa.Array]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    t0_us = int(t0.value // 1000)
    ts = pa.array(t0_us + ts_s.astype(np.int64) * 1_000_000, type=pa.timestamp("us"))
    table = pa.table({"ts": ts, **columns})
    day = ts_s // DAY_S
    total = 0
    for d in range(days):
        idx = np.flatnonzero(day == d)
        part = table.take(pa.array(idx))
        name = (t0 + pd.Timedelta(days=d)).strftime("part-%Y-%m-%d.parquet")
        pq.write_table(part, folder / name, compression="zstd", compression_level=3,
                       row_group_size=1 << 20, write_statistics=True, use_dictionary=True,
                       version="2.6", data_page_version="1.0")
        total += len(idx)
    return total


# --------------------------------------------------------------------------------------------
# grid intensity
# --------------------------------------------------------------------------------------------


def _solar(local_hour: np.ndarray, sunrise: float, sunset: float) -> np.ndarray:
    x = (local_hour - sunrise) / (sunset - sunrise)
    return np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)) ** 1.3, 0.0)


def _grid(rng: np.random.Generator, t0: pd.Timestamp, days: int) -> list[list]:
    hours = pd.date_range(t0 - pd.Timedelta(days=1), periods=(days + 2) * 24, freq="h", tz="UTC")
    h_from_t0 = np.arange(-24, (days + 1) * 24)
    missing = (days // 2) * 24 + MISSING_GRID_HOUR_S // HOUR_S
    rows: list[list] = []
    for zone in ("DE", "US-CAL-CISO"):
        local = hours.tz_convert(ZONE_TZ[zone])
        lh = np.asarray(local.hour + local.minute / 60, dtype=float) + 0.5
        nday = days + 3
        day_i = (h_from_t0 + 24) // 24
        if zone == "DE":
            weather = 345 + 45 * rng.standard_normal(nday)  # wind: day-to-day swing
            solar_amp = 105 * rng.uniform(0.6, 1.2, nday)
            sun = _solar(lh, 6.8, 18.3)
            peaks = 28 * np.exp(-((lh - 7.5) / 1.3) ** 2) + 35 * np.exp(-((lh - 18.8) / 1.6) ** 2)
        else:
            weather = 212 + 12 * rng.standard_normal(nday)
            solar_amp = 140 * rng.uniform(0.8, 1.1, nday)
            sun = _solar(lh, 6.3, 17.9)
            peaks = 18 * np.exp(-((lh - 19.0) / 1.5) ** 2)
        base = np.interp(h_from_t0 / 24.0, np.arange(nday) - 1.0 + 0.5, weather)
        noise = _smooth(rng.standard_normal(h_from_t0.size), 3.0) * 6.0
        direct = np.maximum(base - solar_amp[day_i] * sun + peaks + noise, 20.0)
        ratio = 1.15 + 0.08 * sun * (solar_amp[day_i] / solar_amp.max()) + 0.004 * rng.standard_normal(direct.size)
        lifecycle = direct * ratio
        for k, ts in enumerate(hours):
            if zone == MISSING_GRID_ZONE and h_from_t0[k] == missing:
                continue
            iso = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
            for basis, v in (("direct", direct[k]), ("lifecycle", lifecycle[k])):
                rows.append([zone, iso, round(float(v), 2), basis, "average", GRID_SOURCE, False])
    return rows


# --------------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What every writer needs: where, when, how dense, and the schedule of jobs and allocations."""

    out: Path
    seed: int
    days: int
    interval_s: int
    t0: pd.Timestamp
    jobs: list[_Job]
    allocs: list[tuple[int, str, int, int, int, bool]]

    @property
    def period_s(self) -> int:
        return self.days * DAY_S

    @property
    def d1(self) -> int:
        """Start of the second day (the first when there is one day): where the defects are placed."""
        return min(1, self.days - 1) * DAY_S

    @property
    def n(self) -> int:
        return self.period_s // self.interval_s

    @property
    def outage(self) -> tuple[int, int]:
        return self.d1 + OUTAGE_WINDOW_S[0], self.d1 + OUTAGE_WINDOW_S[1]


@dataclass
class _Telemetry:
    """Per-GPU series the node and infra writers derive their power from."""

    power: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    busy: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)


def generate_sample(out_dir: Path, *, seed: int = 42, days: int = 3, start: str = "2024-03-04",
                    interval_s: int = 10) -> dict[str, int]:
    """Write the demo data directory to ``out_dir``; return the rows written per input.

    ``days`` whole UTC days of telemetry from ``start`` (a date) at one sample per ``interval_s``
    seconds per GPU. ``interval_s`` must divide 86,400 and be at most 600.
    """
    run = _prepare(Path(out_dir), seed, days, start, interval_s)
    telemetry = _Telemetry()
    counts = {"gpu_samples": _write_gpu_samples(run, telemetry)}
    counts["node_samples"], site_b_it_j = _write_node_samples(run, telemetry)
    counts["hosts"] = _write_hosts(run)
    counts["sites"] = _write_sites(run)
    counts["jobs"] = _write_jobs(run)
    counts["allocations"] = _write_allocations(run)
    counts["hardware"] = _write_hardware(run)
    counts["grid_intensity"] = _write_grid_intensity(run)
    counts["energy_contracts"] = _write_energy_contracts(run, site_b_it_j)
    counts["residual_mix"] = _write_residual_mix(run)
    counts["inference_usage"] = _write_inference_usage(run)
    counts["models"] = _write_csv(run.out / "models.csv", ["model", "family", "expected_lifetime_requests",
                                                           "parameters"], [list(m) for m in MODELS])
    _write_config(run)
    return {name: counts[name] for name in INPUTS}


def _prepare(out: Path, seed: int, days: int, start: str, interval_s: int) -> _Run:
    if days < 1:
        raise ValueError("days must be >= 1")
    if interval_s < 1 or interval_s > 600 or DAY_S % interval_s:
        raise ValueError("interval_s must divide 86400 and be between 1 and 600")
    t0 = pd.Timestamp(start)
    if t0.tzinfo is not None:
        t0 = t0.tz_convert("UTC").tz_localize(None)
    if t0 != t0.normalize():
        raise ValueError("start must be a date (midnight UTC)")
    out.mkdir(parents=True, exist_ok=True)
    jobs = _schedule(seed, days * DAY_S, days)
    return _Run(out, seed, days, interval_s, t0, jobs, list(_allocations(jobs)))


def _write_gpu_samples(run: _Run, telemetry: _Telemetry) -> int:
    interval_s, n = run.interval_s, run.n
    d1 = run.d1
    day_sel = {"D0": 0, "D1": d1, "DL": (run.days - 1) * DAY_S}
    base_t = np.arange(n, dtype=np.int64) * interval_s
    per_gpu_allocs: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    for j, host, g, s, e, _ in run.allocs:
        per_gpu_allocs.setdefault((host, g), []).append((s, e, j))
    rng_u = np.random.default_rng([run.seed, 3])
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                           ("ts", "host", "gpu", "power", "energy", "util", "mem", "uuid", "job")}
    host_names = list(HOSTS)
    uuids: list[str] = []
    outage = run.outage
    for h_i, host in enumerate(COMPUTE_HOSTS):
        model = HOSTS[host][2]
        tdp, idle_range, mem_total = GPU_SPECS[model]
        phase = HOSTS[host][3] % interval_s
        t = base_t + phase
        keep = ~((host == OUTAGE_HOST) & (t >= outage[0]) & (t < outage[1])) if host == OUTAGE_HOST \
            else np.ones(n, dtype=bool)
        for g in range(GPUS_PER_HOST):
            rng = np.random.default_rng([run.seed, 4, h_i, g])
            idle_w = float(rng.uniform(*idle_range))
            power, util, mem, job_idx = _gpu_series(
                t, sorted(per_gpu_allocs.get((host, g), [])), run.jobs, tdp, idle_w, mem_total, interval_s,
                0.0, rng)
            reset_pos = None
            if (host, g) == RESET_GPU:
                reset_t = d1 + RESET_AT_S + phase + 0.42 * interval_s
                reset_pos = (reset_t - phase) / interval_s
            energy = _energy_counter(power, interval_s, float(rng.uniform(2e11, 4e12)), reset_pos)
            telemetry.power[(host, g)] = power
            telemetry.busy[(host, g)] = job_idx >= 0
            uuids.append("GPU-" + str(uuid.UUID(bytes=rng_u.bytes(16), version=4)))
            shown = power.copy()
            for dh, dg, dsel, dsec, bad in POWER_DEFECTS:
                if (dh, dg) == (host, g):
                    shown[(day_sel[dsel] + dsec) // interval_s] = bad
            parts["ts"].append(t[keep])
            parts["host"].append(np.full(keep.sum(), host_names.index(host), dtype=np.int32))
            parts["gpu"].append(np.full(keep.sum(), g, dtype=np.int32))
            parts["power"].append(shown[keep])
            parts["energy"].append(energy[keep])
            parts["util"].append(util[keep])
            parts["mem"].append(mem[keep])
            parts["uuid"].append(np.full(keep.sum(), len(uuids) - 1, dtype=np.int32))
            parts["job"].append(job_idx[keep])
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return _write_parquet_days(run.out / "gpu_samples", run.t0, run.days, cat["ts"], {
        "host": _str_column(cat["host"], host_names),
        "gpu": pa.array(cat["gpu"], pa.int32()),
        "power_w": pa.array(cat["power"], pa.float64()),
        "energy_mj": pa.array(cat["energy"], pa.float64()),
        "util_pct": pa.array(cat["util"], pa.float64()),
        "mem_used_mib": pa.array(cat["mem"], pa.float64()),
        "gpu_uuid": _str_column(cat["uuid"], uuids),
        "job_id": _str_column(cat["job"], [j.job_id for j in run.jobs]),
    })


def _write_node_samples(run: _Run, telemetry: _Telemetry) -> tuple[int, float]:
    """Node (or component) power of compute hosts and power of infra hosts; also site-b's IT energy in J."""
    interval_s = run.interval_s
    k = max(1, math.ceil(30 / interval_s))
    node_idx = np.arange(0, run.n, k)
    comp_names = ["cpu", "dram", "other", "node"]
    host_names = list(HOSTS)
    nparts: dict[str, list[np.ndarray]] = {"ts": [], "host": [], "comp": [], "power": []}
    site_busy = {"site-a": np.zeros(node_idx.size), "site-b": np.zeros(node_idx.size)}
    it_energy_b = 0.0  # site-b IT energy (J) for sizing the PPA
    outage = run.outage
    for h_i, host in enumerate(COMPUTE_HOSTS):
        rng = np.random.default_rng([run.seed, 5, h_i])
        phase = HOSTS[host][3] % interval_s
        t = node_idx * interval_s + phase
        gsum = sum(telemetry.power[(host, g)][node_idx] for g in range(GPUS_PER_HOST))
        nbusy = sum(telemetry.busy[(host, g)][node_idx].astype(float) for g in range(GPUS_PER_HOST))
        site_busy[HOSTS[host][0]] += nbusy
        cpu0, cpu_b, dram0, dram_b, oth0, oth_f = NODE_MODEL[host]
        m = node_idx.size
        cpu = cpu0 + cpu_b * nbusy + 12 * _smooth(rng.standard_normal(m), 4) + 4 * rng.standard_normal(m)
        dram = dram0 + dram_b * nbusy + 2 * rng.standard_normal(m)
        other = oth0 + oth_f * gsum + 10 * _smooth(rng.standard_normal(m), 10) + 5 * rng.standard_normal(m)
        keep = ~((t >= outage[0]) & (t < outage[1])) if host == OUTAGE_HOST else np.ones(m, dtype=bool)
        if host in COMPONENT_HOSTS:
            series = {"cpu": np.round(cpu, 1), "dram": np.round(dram, 1), "other": np.round(other, 1)}
        else:
            series = {"node": np.round(gsum + cpu + dram + other + 15 * rng.standard_normal(m))}
        if HOSTS[host][0] == "site-b":
            it_energy_b += float((gsum + cpu + dram + other).sum()) * k * interval_s
        for comp, vals in series.items():
            nparts["ts"].append(t[keep])
            nparts["host"].append(np.full(keep.sum(), host_names.index(host), dtype=np.int32))
            nparts["comp"].append(np.full(keep.sum(), comp_names.index(comp), dtype=np.int32))
            nparts["power"].append(vals[keep])
    for h_i, host in enumerate(INFRA_MODEL):
        rng = np.random.default_rng([run.seed, 6, h_i])
        base, per_gpu, noise = INFRA_MODEL[host]
        m = node_idx.size
        vals = base + per_gpu * site_busy[HOSTS[host][0]] + noise * _smooth(rng.standard_normal(m), 6)
        vals = np.round(vals + 0.3 * noise * rng.standard_normal(m))
        if HOSTS[host][0] == "site-b":
            it_energy_b += float(vals.sum()) * k * interval_s
        nparts["ts"].append(node_idx * interval_s + HOSTS[host][3] % interval_s)
        nparts["host"].append(np.full(m, host_names.index(host), dtype=np.int32))
        nparts["comp"].append(np.full(m, comp_names.index("node"), dtype=np.int32))
        nparts["power"].append(vals)
    ncat = {k_: np.concatenate(v) for k_, v in nparts.items()}
    rows = _write_parquet_days(run.out / "node_samples", run.t0, run.days, ncat["ts"], {
        "host": _str_column(ncat["host"], host_names),
        "component": _str_column(ncat["comp"], comp_names),
        "power_w": pa.array(ncat["power"], pa.float64()),
    })
    return rows, it_energy_b


def _write_hosts(run: _Run) -> int:
    return _write_csv(run.out / "hosts.csv", ["host", "site", "role", "gpu_count", "gpu_model"], [
        [h, site, role, GPUS_PER_HOST if gm else None, gm] for h, (site, role, gm, _) in HOSTS.items()])


def _write_sites(run: _Run) -> int:
    pue_change = (run.period_s // 2) // HOUR_S * HOUR_S
    site_rows = []
    for site, (pue0, pue1, wue, ewif) in SITE_ROWS.items():
        if pue1 is None:
            site_rows.append([site, ZONES[site], pue0, wue, ewif, None, None])
        else:
            site_rows.append([site, ZONES[site], pue0, wue, ewif, None, _iso(run.t0, pue_change)])
            site_rows.append([site, ZONES[site], pue1, wue, ewif, _iso(run.t0, pue_change), None])
    return _write_csv(run.out / "sites.csv", ["site", "zone", "pue", "wue_l_per_kwh", "ewif_l_per_kwh",
                                              "valid_from", "valid_to"], site_rows)


def _write_jobs(run: _Run) -> int:
    """Scheduled jobs, four job-level jobs (CodeCarbon-measured and estimated) and one never-started job."""
    t0, jobs, d1 = run.t0, run.jobs, run.d1
    job_header = ["job_id", "model", "stage", "state", "start", "end", "project", "user", "energy_kwh",
                  "site", "device_model", "device_count", "avg_power_w"]
    job_rows: list[tuple[int, str, list]] = []
    for job in jobs:
        job_rows.append((job.start, job.job_id, [job.job_id, job.tpl.model, job.tpl.stage, job.state,
                                                 _iso(t0, job.start), _iso(t0, job.end), job.tpl.project,
                                                 job.user, None, None, None, None, None]))
    hm = lambda h, m, s=0: h * HOUR_S + m * 60 + s  # noqa: E731
    extra = [
        ("cc-ws07-0001", "kestrel-asr", "experimentation", "kestrel", "erin", hm(9, 12, 5), hm(12, 40, 47),
         1.463, "site-b", None, None, None),
        ("cc-ws07-0002", "helios-1b", "data", "helios", "bob", d1 + hm(13, 5, 30), d1 + hm(15, 22, 10),
         0.712, "site-b", None, None, None),
        ("est-0001", "helios-7b-chat", "post_training", "helios", "carol", hm(19, 30), hm(23, 50),
         None, "site-a", "H100-SXM5-80GB", 4, 540.0),
        ("est-0002", "kestrel-asr", "evaluation", "kestrel", "frank", d1 + hm(8, 0), d1 + hm(10, 30),
         None, "site-b", "A100-SXM4-80GB", 2, None),
    ]
    for jid, model, stage, proj, user, s, e, kwh, site, dev, cnt, pw in extra:
        job_rows.append((s, jid, [jid, model, stage, "COMPLETED", _iso(t0, s), _iso(t0, e), proj, user, kwh,
                                  site, dev, cnt, pw]))
    pending_id = str(max(int(j.job_id) for j in jobs if j.job_id.startswith("48")) + 7)
    job_rows.append((hm(10, 2, 11), pending_id, [pending_id, "helios-1b", "experimentation", "CANCELLED", "",
                                                 _iso(t0, hm(10, 2, 11)), "helios", "dave", None, None, None,
                                                 None, None]))
    job_rows.sort(key=lambda r: (r[0], r[1]))
    return _write_csv(run.out / "jobs.csv", job_header, [r[2] for r in job_rows])


def _write_allocations(run: _Run) -> int:
    """One row per job and GPU, plus one row naming a host that does not exist (a typo to quarantine)."""
    alloc_rows = []
    typo_job = next((j for j in run.jobs if j.host == "a-gpu02" and len(j.gpus) >= 2), None)
    for j, host, g, s, e, explicit in run.allocs:
        job = run.jobs[j]
        alloc_rows.append([job.job_id, host, g, _iso(run.t0, s) if explicit else None,
                           _iso(run.t0, e) if explicit else None])
        if job is typo_job and g == job.gpus[-1]:
            alloc_rows.append([job.job_id, UNKNOWN_ALLOC_HOST, job.gpus[0], None, None])
    return _write_csv(run.out / "allocations.csv", ["job_id", "host", "gpu", "start", "end"], alloc_rows)


_HW_HEADER = ["asset_id", "kind", "model", "quantity", "site", "in_service", "lifetime_years", "host", "gpu",
              "retired", "manufacturer", "embodied_kgco2e", "embodied_water_l", "embodied_adp_kgsbeq",
              "embodied_source", "die_area_mm2", "process_nm", "memory_gb", "capacity_gb"]


def _hw(asset, kind, model, qty, site, in_service, life, host=None, gpu=None, retired=None, mfr=None,
        kg=None, src=None, die=None, nm=None, mem=None, cap=None) -> list:
    return [asset, kind, model, qty, site, in_service, life, host, gpu, retired, mfr, kg, None, None, src,
            die, nm, mem, cap]


def _write_hardware(run: _Run) -> int:
    """Servers and GPUs with a PCF or die data, CPU/DRAM/SSD for the component model, storage and network."""
    hw = _hw
    in_service = {"a-gpu01": "2023-06-12", "a-gpu02": "2023-09-04", "b-gpu01": "2022-05-16",
                  "b-gpu02": "2022-11-07"}
    hw_rows = []
    for host in COMPUTE_HOSTS:
        tag = host.upper()
        d = in_service[host]
        if host.startswith("a-"):
            hw_rows.append(hw(f"SRV-{tag}", "server", "Supermicro SYS-821GE-TNHR", 1, "site-a", d, 5.0, host,
                              mfr="Supermicro", kg=2500.0, src=BLOOM_SERVER_SRC))
            for g in range(GPUS_PER_HOST):
                hw_rows.append(hw(f"GPU-{tag}-{g}", "gpu", "H100-SXM5-80GB", 1, "site-a", d, 5.0, host, g,
                                  mfr="NVIDIA", kg=164.0, src=NVIDIA_HGX_SRC, die=814.0, nm=4.0, mem=80.0))
        else:
            hw_rows.append(hw(f"SRV-{tag}", "server", "NVIDIA DGX A100", 1, "site-b", d, 6.0, host, mfr="NVIDIA"))
            hw_rows.append(hw(f"CPU-{tag}", "cpu", "AMD EPYC 7742", 2, "site-b", d, 6.0, host, mfr="AMD",
                              die=592.0, nm=7.0))
            hw_rows.append(hw(f"DRAM-{tag}", "dram", "64GB DDR4-3200 RDIMM", 16, "site-b", d, 6.0, host,
                              mem=64.0))
            hw_rows.append(hw(f"SSD-{tag}", "ssd", "3.84TB NVMe U.2 SSD", 4, "site-b", d, 6.0, host,
                              cap=3840.0))
            for g in range(GPUS_PER_HOST):
                hw_rows.append(hw(f"GPU-{tag}-{g}", "gpu", "A100-SXM4-80GB", 1, "site-b", d, 6.0, host, g,
                                  mfr="NVIDIA", die=826.0, nm=7.0, mem=80.0))
    retired = (run.t0 + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    hw_rows += [
        hw("STOR-A-01", "storage", "DDN AI400X2", 1, "site-a", "2023-06-01", 5.0, mfr="DDN", cap=491520.0),
        hw("NET-A-01", "network", "NVIDIA Quantum-2 QM9700", 2, "site-a", "2023-06-01", 6.0, mfr="NVIDIA"),
        hw("NET-A-02", "network", "NVIDIA Spectrum SN4600", 1, "site-a", "2023-06-01", 6.0, mfr="NVIDIA"),
        hw("STOR-B-00", "storage", "Dell PowerScale H500", 1, "site-b", "2022-01-10", 5.0, retired=retired,
           mfr="Dell", cap=245760.0),
        hw("STOR-B-01", "storage", "NetApp AFF A400", 1, "site-b", "2022-03-14", 5.0, mfr="NetApp",
           cap=368640.0),
        hw("NET-B-01", "network", "NVIDIA Quantum QM8700", 2, "site-b", "2022-03-14", 6.0, mfr="NVIDIA"),
    ]
    return _write_csv(run.out / "hardware.csv", _HW_HEADER, hw_rows)


def _write_grid_intensity(run: _Run) -> int:
    grid_rows = _grid(np.random.default_rng([run.seed, 7]), run.t0, run.days)
    return _write_csv(run.out / "grid_intensity.csv", ["zone", "ts", "gco2e_per_kwh", "basis", "kind", "source",
                                                       "estimated"], grid_rows)


def _write_energy_contracts(run: _Run, site_b_it_j: float) -> int:
    """A PPA covering 40 % of site-b's facility energy over the period."""
    ppa_mwh = round(site_b_it_j / 3.6e9 * SITE_ROWS["site-b"][0] * 0.40, 3)
    return _write_csv(
        run.out / "energy_contracts.csv", ["site", "valid_from", "valid_to", "mwh", "gco2e_per_kwh", "kind"],
        [["site-b", _iso(run.t0, 0), _iso(run.t0, run.period_s), ppa_mwh, 11.0, "ppa"]])


def _write_residual_mix(run: _Run) -> int:
    t0 = run.t0
    years = sorted({(t0 - pd.Timedelta(days=1)).year,
                    (t0 + pd.Timedelta(days=run.days + 1) - pd.Timedelta(hours=1)).year})
    return _write_csv(run.out / "residual_mix.csv", ["zone", "year", "gco2e_per_kwh"], [
        [zone, y, val] for zone, val in (("DE", 620.0), ("US-CAL-CISO", 310.0)) for y in years])


def _write_inference_usage(run: _Run) -> int:
    """Requests per model and day in proportion to the GPU-seconds its inference jobs held."""
    rng = np.random.default_rng([run.seed, 8])
    usage_rows = []
    for model, (rate, tin, tout) in SERVING.items():
        for d in range(run.days):
            ds, de = d * DAY_S, (d + 1) * DAY_S
            gpu_s = sum(max(0, min(e, de) - max(s, ds)) for j, _, _, s, e, _ in run.allocs
                        if run.jobs[j].tpl.stage == "inference" and run.jobs[j].tpl.model == model)
            req = int(round(gpu_s * rate * rng.uniform(0.92, 1.08)))
            usage_rows.append([model, (run.t0 + pd.Timedelta(days=d)).strftime("%Y-%m-%d"), req,
                               None if tin is None else int(round(req * tin * rng.uniform(0.95, 1.05))),
                               int(round(req * tout * rng.uniform(0.95, 1.05)))])
    return _write_csv(run.out / "inference_usage.csv", ["model", "date", "requests", "tokens_in", "tokens_out"],
                      usage_rows)


def _write_config(run: _Run) -> None:
    (run.out / "lca.toml").write_text(
        "# Written by lca_pipeline.sample: the demo data labels pre-training jobs \"pretrain\".\n"
        "[stages]\n"
        "map = { pretrain = \"training\" }\n", encoding="utf-8")
