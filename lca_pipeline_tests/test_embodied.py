"""Embodied impacts against hand-computed expectations (issue: embodied impacts)."""

from __future__ import annotations

import csv

import pytest

from lca_pipeline.factors import factor_path
from lca_pipeline_tests.builders import base_site, constant_power, hourly_grid, query, run, scalar, ts, write

# Every test here runs the pipeline: not in the everyday `pytest -m "not slow"` subset.
pytestmark = pytest.mark.slow

HOURS_PER_YEAR = 8760.0


def _hardware(**overrides) -> dict:
    row = {"asset_id": "G0", "kind": "gpu", "model": "H100-SXM5-80GB", "quantity": 1, "site": "s1",
           "in_service": "2023-06-01", "lifetime_years": 1, "host": "h1", "gpu": 0,
           "embodied_kgco2e": HOURS_PER_YEAR}
    row.update(overrides)
    return row


def _one_day_one_job(data, hardware: list[dict], job_hours: float = 6.0, policy: str | None = None,
                     utilisation: float | None = None) -> None:
    """One GPU with a day of telemetry; job J holds it from 00:00 for `job_hours`."""
    base_site(data, gpu_count=1, pue=1.0)
    hourly_grid(data, {h: 100.0 for h in range(24)})
    write(data, "gpu_samples", constant_power("h1", 0, 100, 0, 24 * 60, 600))
    (data / "lca.toml").write_text("[telemetry]\nmax_gap_s = 900\n" + (
        f'[embodied]\npolicy = "{policy}"\n' if policy else "") + (
        f"expected_utilisation = {utilisation}\n" if utilisation else ""))
    write(data, "jobs", [{"job_id": "J", "model": "m", "stage": "training", "state": "COMPLETED",
                          "start": ts(0), "end": ts(job_hours * 60)}])
    write(data, "allocations", [{"job_id": "J", "host": "h1", "gpu": 0}])
    write(data, "hardware", hardware)


@pytest.mark.parametrize(
    ("policy", "utilisation", "job_kg", "unallocated_kg"),
    [
        ("calendar", None, 6.0, 18.0),  # TE x 6 h / 8760 h, TE = 8760 kg: 1 kg per asset-hour
        ("expected_utilisation", 0.5, 12.0, 12.0),  # / (lifetime hours x 0.5)
        ("measured", None, 24.0, 0.0),  # the day's whole calendar share goes to the day's only job
    ],
)
def test_policies(tmp_path, policy, utilisation, job_kg, unallocated_kg):
    data = tmp_path / "data"
    _one_day_one_job(data, [_hardware()], policy=policy, utilisation=utilisation)
    db, _ = run(data, tmp_path)
    assert scalar(db, "SELECT embodied_co2e_kg FROM marts.job_impacts") == pytest.approx(job_kg, rel=1e-9)
    unallocated = scalar(db, "SELECT sum(embodied_co2e_kg) FROM marts.stage_impacts WHERE stage = 'unallocated'")
    assert unallocated == pytest.approx(unallocated_kg, abs=1e-9)
    row = query(db, "SELECT total_co2e_kg, pre_period_co2e_kg + allocated_co2e_kg + unallocated_co2e_kg "
                    "+ remaining_co2e_kg, embodied_method FROM marts.asset_embodied")[0]
    assert row[1] == pytest.approx(row[0], rel=1e-9) and row[2] == "pcf"


def test_sci_worked_example_1000kg_4_years_1_hour(tmp_path):
    data = tmp_path / "data"
    _one_day_one_job(data, [_hardware(embodied_kgco2e=1000, lifetime_years=4)], job_hours=1)
    db, _ = run(data, tmp_path)
    # GSF SCI: M = TE x TiR / EL = 1000 kg x 1 h / (4 x 8760 h) = 0.0285388 kg
    assert scalar(db, "SELECT embodied_co2e_kg FROM marts.job_impacts") == pytest.approx(1000 / (4 * 8760), rel=1e-3)


def test_retired_asset_amortises_over_its_actual_life(tmp_path):
    data = tmp_path / "data"
    early = _hardware(asset_id="G0", embodied_kgco2e=1000, lifetime_years=4, in_service="2023-01-01",
                      retired="2024-01-02")
    gone = _hardware(asset_id="OLD", kind="server", model="x", gpu="", embodied_kgco2e=500, lifetime_years=4,
                     in_service="2020-01-01", retired="2023-01-01")
    _one_day_one_job(data, [early, gone])
    db, _ = run(data, tmp_path)
    life_h = 366 * 24.0  # 2023-01-01 to 2024-01-02
    assert scalar(db, "SELECT life_hours FROM marts.asset_embodied WHERE asset_id = 'G0'") == pytest.approx(life_h)
    assert scalar(db, "SELECT embodied_co2e_kg FROM marts.job_impacts") == pytest.approx(1000 * 6 / life_h, rel=1e-9)
    old = query(db, "SELECT allocated_co2e_kg, unallocated_co2e_kg, remaining_co2e_kg, pre_period_co2e_kg, "
                    "retired_early FROM marts.asset_embodied WHERE asset_id = 'OLD'")[0]
    assert old == (0, 0, pytest.approx(0), pytest.approx(500.0), True)


def _factor(name: str) -> float:
    with open(factor_path("factor_component_constants")) as fh:
        return float(next(r["value"] for r in csv.DictReader(fh) if r["name"] == name))


def test_pcf_asset_vs_component_model_asset(tmp_path):
    data = tmp_path / "data"
    pcf = _hardware(asset_id="P", embodied_kgco2e=164.0, embodied_source="NVIDIA HGX H100 PCF / 8")
    spec = _hardware(asset_id="S", model="A100-SXM4-80GB", gpu="", embodied_kgco2e="", die_area_mm2=826,
                     process_nm=7, memory_gb=80, quantity=2)
    _one_day_one_job(data, [pcf, spec])
    db, _ = run(data, tmp_path)
    rows = {r[0]: r[1:] for r in query(db, "SELECT asset_id, embodied_method, total_co2e_kg, embodied_basis "
                                           "FROM marts.asset_embodied")}
    assert rows["P"][:2] == ("pcf", pytest.approx(164.0)) and "NVIDIA" in rows["P"][2]
    with open(factor_path("factor_component_model")) as fh:
        node = next(r for r in csv.DictReader(fh) if float(r["process_nm"]) == 7)
    y = _factor("yield")
    die_g = 8.26 * (_factor("fab_ci_g_per_kwh") * float(node["epa_kwh_per_cm2"]) + float(node["gpa_g_per_cm2"])
                    + float(node["mpa_g_per_cm2"])) / y + _factor("packaging_g_per_ic")
    memory_g = 80 * _factor("dram_g_per_gb") / y
    assert rows["S"][0] == "component_model"
    assert rows["S"][1] == pytest.approx(2 * (die_g + memory_g) / 1000, rel=1e-9)  # quantity x per unit


def test_default_when_no_pcf_and_no_specs_and_null_when_unknown(tmp_path):
    data = tmp_path / "data"
    server = _hardware(asset_id="SRV", kind="server", model="Unknown box", gpu="", embodied_kgco2e="")
    gpu = _hardware(asset_id="G", embodied_kgco2e=100)
    switch = _hardware(asset_id="NET", kind="network", model="switch", host="", gpu="", embodied_kgco2e="")
    _one_day_one_job(data, [server, gpu, switch])
    db, _ = run(data, tmp_path)
    rows = {r[0]: r[1:] for r in query(db, "SELECT asset_id, embodied_method, total_co2e_kg, total_co2e_low_kg, "
                                           "total_co2e_high_kg FROM marts.asset_embodied")}
    assert rows["SRV"][0] == "default" and rows["SRV"][1] == pytest.approx(2500.0)  # chassis: GPUs recorded apart
    assert rows["NET"] == ("none", None, None, None)  # unknown is NULL, never 0


def test_estimate_mode_job_takes_per_device_default(tmp_path):
    data = tmp_path / "data"
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.2}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 8}])
    hourly_grid(data, {h: 250.0 for h in range(0, 5)})
    write(data, "jobs", [{"job_id": "E", "model": "m", "stage": "training", "state": "COMPLETED", "start": ts(0),
                          "end": ts(180), "site": "s1", "device_model": "A100-SXM4-80GB", "device_count": 4,
                          "avg_power_w": 400}])
    db, _ = run(data, tmp_path)
    with open(factor_path("factor_embodied_device")) as fh:
        f = next(r for r in csv.DictReader(fh) if r["device_model"] == "A100-SXM4-80GB")
    expected = float(f["gwp_kgco2e_per_device"]) * 4 * 3 / (float(f["lifetime_years"]) * HOURS_PER_YEAR)
    assert scalar(db, "SELECT embodied_co2e_kg FROM marts.job_impacts") == pytest.approx(expected, rel=1e-9)
