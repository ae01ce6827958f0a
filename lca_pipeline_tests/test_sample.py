"""The demo data generator (lca_pipeline.sample): determinism, the data contract, internal consistency."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lca_pipeline import sample

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"
PROVENANCE = {"origin_file", "origin_line", "import_error"}
KW = dict(days=1, interval_s=300)  # small and fast: 288 samples per GPU
TELEMETRY = ("gpu_samples", "node_samples")


def _contract() -> dict[str, tuple[set[str], set[str]]]:
    """input -> (all columns, required columns), read from docs/data-contract.md."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    current = None
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            name = line[3:].split()[0]
            # optional inputs (e.g. pcf_factors, written by an importer) are not part of the demo
            current = name if re.fullmatch(r"[a-z_]+", name) and "(optional)" not in line else None
            if current:
                out[current] = (set(), set())
        elif current and line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 4 and re.fullmatch(r"[a-z_0-9]+", cells[0]) and cells[3] in ("yes", "no"):
                out[current][0].add(cells[0])
                if cells[3] == "yes":
                    out[current][1].add(cells[0])
    return out


def _read(d: Path, name: str) -> pd.DataFrame:
    if name in TELEMETRY:
        files = sorted((d / name).glob("*.parquet"))
        return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    return pd.read_csv(d / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("sample")
    return d, sample.generate_sample(d, **KW)


@pytest.fixture(scope="module")
def data(generated) -> dict[str, pd.DataFrame]:
    return {name: _read(generated[0], name) for name in sample.INPUTS}


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(generated, tmp_path):
    first, counts = generated
    again = sample.generate_sample(tmp_path / "again", **KW)
    assert again == counts
    a, b = _files(first), _files(tmp_path / "again")
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    other = sample.generate_sample(tmp_path / "other", seed=7, **KW)
    assert _files(tmp_path / "other")["gpu_samples/part-2024-03-04.parquet"] != a["gpu_samples/part-2024-03-04.parquet"]
    assert set(other) == set(sample.INPUTS)


def test_every_input_follows_the_contract(generated, data):
    d, counts = generated
    contract = _contract()
    assert set(contract) == set(sample.INPUTS)
    for name in sample.INPUTS:
        allowed, required = contract[name]
        cols = set(data[name].columns)
        assert required <= cols, (name, required - cols)
        assert cols <= allowed | PROVENANCE, (name, cols - allowed)
        assert counts[name] == len(data[name]) > 0, name
    for name in TELEMETRY:
        files = sorted(p.name for p in (d / name).iterdir())
        assert files == ["part-2024-03-04.parquet"]
        ts_type = pq.read_schema(d / name / files[0]).field("ts").type
        assert pa.types.is_timestamp(ts_type) and ts_type.tz is None
    for name in ("jobs", "allocations", "sites", "grid_intensity", "energy_contracts"):
        for col in ("start", "end", "ts", "valid_from", "valid_to"):
            if col in data[name]:
                vals = data[name][col][data[name][col] != ""]
                assert vals.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all(), (name, col)
    assert (d / "lca.toml").is_file()


def test_fleet_layout(data):
    hosts = data["hosts"].set_index("host")
    compute = hosts[hosts.role == "compute"]
    assert len(compute) == 4 and (compute.gpu_count == "8").all()
    assert set(hosts.role) == {"compute", "storage", "network"}
    sites = data["sites"]
    assert set(sites.site) == set(hosts.site) == {"site-a", "site-b"}
    assert sites.groupby("site").zone.nunique().eq(1).all() and sites.zone.nunique() == 2
    assert (sites.site == "site-a").sum() == 2  # time-varying PUE
    assert sites.pue.astype(float).between(1.1, 1.4).all()
    gpus = data["gpu_samples"].groupby("host").gpu.nunique()
    assert gpus.to_dict() == {h: 8 for h in compute.index}


def _allocated_mask(data) -> tuple[pd.DataFrame, np.ndarray]:
    g = data["gpu_samples"]
    jobs = data["jobs"].set_index("job_id")
    alloc = data["allocations"]
    alloc = alloc[alloc.host.isin(set(data["hosts"].host))]
    mask = np.zeros(len(g), dtype=bool)
    owner = np.full(len(g), None, dtype=object)
    for row in alloc.itertuples():
        s = pd.Timestamp(row.start or jobs.loc[row.job_id, "start"]).tz_convert(None)
        e = pd.Timestamp(row.end or jobs.loc[row.job_id, "end"]).tz_convert(None)
        hit = ((g.host == row.host) & (g.gpu == int(row.gpu)) & (g.ts >= s) & (g.ts < e)).to_numpy()
        assert not mask[hit].any(), "two allocations overlap on one GPU"
        mask |= hit
        owner[hit] = row.job_id
    return g.assign(alloc_job=owner), mask


def test_power_follows_allocations(data):
    g, busy = _allocated_mask(data)
    ok = g.power_w.between(0, 3000).to_numpy()
    busy_mean = g.power_w[busy & ok].mean()
    idle = g.power_w[~busy & ok]
    assert 55 <= idle.mean() <= 95 and idle.max() < 100
    assert busy_mean > 3 * idle.mean()
    assert g.util_pct[~busy].eq(0).all() and g.util_pct[busy].mean() > 60
    tdp = {"H100-SXM5-80GB": 700.0, "A100-SXM4-80GB": 400.0}
    model = g.host.map(data["hosts"].set_index("host").gpu_model).map(tdp)
    assert (g.power_w[ok] <= model[ok]).all()
    # the collector's job_id column names the allocated job
    assert (g.job_id.fillna("").to_numpy() == np.where(busy, g.alloc_job, "")).all()
    share = busy.mean()
    assert 0.6 <= share <= 0.8


def test_energy_counter_rises_except_one_reset(data):
    g = data["gpu_samples"].sort_values(["host", "gpu", "ts"])
    step = g.groupby(["host", "gpu"]).energy_mj.diff()
    drops = g[step <= 0]
    assert len(drops) == 1
    assert (drops.host.iloc[0], int(drops.gpu.iloc[0])) == sample.RESET_GPU
    # elsewhere the counter is the integral of the power curve (trapezoid between samples)
    dt = g.groupby(["host", "gpu"]).ts.diff().dt.total_seconds()
    prev = g.groupby(["host", "gpu"]).power_w.shift()
    good = (dt == KW["interval_s"]) & (step > 0) & g.power_w.between(0, 3000) & prev.between(0, 3000)
    expected = (g.power_w + prev) / 2 * dt * 1000
    assert good.sum() > 0.95 * len(g)
    assert (step[good] - expected[good]).abs().max() <= 2.0
    assert g.gpu_uuid.nunique() == 32 and g.groupby(["host", "gpu"]).gpu_uuid.nunique().eq(1).all()


def test_node_power(data):
    n = data["node_samples"]
    comps = n.groupby("host").component.agg(lambda c: tuple(sorted(set(c))))
    for host in sample.COMPUTE_HOSTS:
        want = ("cpu", "dram", "other") if host in sample.COMPONENT_HOSTS else ("node",)
        assert comps[host] == want
    infra = data["hosts"][data["hosts"].role != "compute"].host
    assert all(comps[h] == ("node",) for h in infra)
    g = data["gpu_samples"]
    gsum = g[g.power_w.between(0, 3000)].groupby(["host", "ts"]).power_w.agg(["sum", "count"])
    node = n[n.component == "node"].join(gsum, on=["host", "ts"], how="inner")
    node = node[node["count"] == 8]
    assert len(node) > 500 and (node.power_w > node["sum"] + 500).all()


def test_unknown_stage_is_mapped_in_lca_toml(generated, data):
    cfg = tomllib.loads((generated[0] / "lca.toml").read_text(encoding="utf-8"))
    mapping = cfg["stages"]["map"]
    assert mapping == {"pretrain": "training"}
    stages = set(data["jobs"].stage)
    assert "pretrain" in stages
    assert set(sample.STAGES) <= stages
    assert stages <= set(sample.STAGES) | set(mapping)


def test_job_mix(data):
    jobs, alloc = data["jobs"], data["allocations"]
    assert {"COMPLETED", "FAILED", "CANCELLED", "PREEMPTED", "TIMEOUT"} <= set(jobs.state)
    assert set(alloc.job_id) <= set(jobs.job_id)
    sizes = alloc[alloc.host.isin(sample.COMPUTE_HOSTS)].groupby("job_id").size()
    assert {1, 2, 4, 8} <= set(sizes)
    assert (jobs.model == "").eq(jobs.stage == "other").all()
    no_alloc = jobs[~jobs.job_id.isin(alloc.job_id) & (jobs.start != "")].set_index("job_id")
    assert sorted(no_alloc.index) == ["cc-ws07-0001", "cc-ws07-0002", "est-0001", "est-0002"]
    measured = no_alloc.loc[["cc-ws07-0001", "cc-ws07-0002"]]
    assert (measured.energy_kwh.astype(float) > 0).all() and (measured.site == "site-b").all()
    est = no_alloc.loc[["est-0001", "est-0002"]]
    assert (est.energy_kwh == "").all() and (est.site != "").all() and (est.device_count != "").all()
    assert list(est.avg_power_w) == ["540", ""]
    assert alloc[(alloc.start != "")].shape[0] >= 1  # an allocation with its own window
    # a GPU hosts two jobs within one clock hour
    a = alloc[alloc.host.isin(sample.COMPUTE_HOSTS)].merge(jobs, on="job_id", suffixes=("", "_job"))
    starts = pd.to_datetime(a.start.where(a.start != "", a.start_job)).astype("int64") // 10**9
    ends = pd.to_datetime(a.end.where(a.end != "", a.end_job)).astype("int64") // 10**9
    per_hour: dict[tuple, set] = {}
    for host, gpu, job, s, e in zip(a.host, a.gpu, a.job_id, starts, ends):
        for h in range(s // 3600, (e - 1) // 3600 + 1):
            per_hour.setdefault((host, gpu, h), set()).add(job)
    assert max(len(v) for v in per_hour.values()) >= 2


def test_defects_and_gaps(data):
    g = data["gpu_samples"]
    bad = g[~g.power_w.between(0, 3000)]
    assert sorted(bad.power_w) == sorted(p for *_, p in sample.POWER_DEFECTS)
    assert list(data["allocations"].host[~data["allocations"].host.isin(data["hosts"].host)]) == ["a-gpu1"]
    assert (data["jobs"].start == "").sum() == 1
    # the outage: 20 minutes without samples on one host, GPU and node telemetry alike
    per_host = g.groupby("host").size()
    assert per_host[sample.OUTAGE_HOST] == 288 * 8 - 4 * 8
    assert per_host.drop(sample.OUTAGE_HOST).eq(288 * 8).all()
    # one hour missing in one zone of the grid data, both bases
    grid = data["grid_intensity"]
    assert set(grid.basis) == {"direct", "lifecycle"} and set(grid.estimated) == {"false"}
    hours = grid.groupby(["zone", "basis"]).ts.nunique()
    assert hours.to_dict() == {("DE", "direct"): 72, ("DE", "lifecycle"): 72,
                               ("US-CAL-CISO", "direct"): 71, ("US-CAL-CISO", "lifecycle"): 71}
    piv = grid.pivot_table(index=["zone", "ts"], columns="basis", values="gco2e_per_kwh", aggfunc="first")
    ratio = piv.lifecycle.astype(float) / piv.direct.astype(float)
    assert ratio.between(1.1, 1.25).all()


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError):
        sample.generate_sample(tmp_path, days=0)
    with pytest.raises(ValueError):
        sample.generate_sample(tmp_path, interval_s=7)
    with pytest.raises(ValueError):
        sample.generate_sample(tmp_path, start="2024-03-04T06:00:00")
