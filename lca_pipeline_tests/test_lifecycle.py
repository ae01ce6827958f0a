"""Life cycle per model: functional unit, break-even, families and interpretation tables (hand-computed)."""

from __future__ import annotations

import pytest

from lca_pipeline_tests.builders import base_site, constant_power, hourly_grid, query, run, scalar, ts, write

# Every test here runs the pipeline: not in the everyday `pytest -m "not slow"` subset.
pytestmark = pytest.mark.slow


def _cluster(data, jobs: list[dict], hours: int = 3, gpus: int = 1) -> None:
    """GPUs at 1,000 W, PUE 1.0 and 100 g/kWh: every GPU-hour is 1 kWh and 0.1 kgCO2e."""
    base_site(data, pue=1.0, gpu_count=gpus, wue=None, ewif=None)
    hourly_grid(data, {h: 100.0 for h in range(hours + 1)})
    write(data, "gpu_samples", [r for g in range(gpus) for r in constant_power("h1", g, 1000, 0, hours * 60, 60)])
    write(data, "jobs", [{"state": "COMPLETED", **j} for j in jobs])
    write(data, "allocations", [{"job_id": j["job_id"], "host": "h1", "gpu": j.get("gpu", 0)} for j in jobs])


def test_functional_unit_and_break_even(tmp_path):
    data = tmp_path / "data"
    _cluster(data, [
        {"job_id": "T", "model": "m", "stage": "training", "start": ts(0), "end": ts(120)},
        {"job_id": "I", "model": "m", "stage": "inference", "start": ts(120), "end": ts(180)},
    ])
    write(data, "inference_usage", [{"model": "m", "date": "2024-01-01", "requests": 1000}])
    write(data, "models", [{"model": "m", "family": "f", "expected_lifetime_requests": 1_000_000}])
    db, _ = run(data, tmp_path)
    row = query(db, "SELECT upfront_co2e_kg, inference_co2e_kg, marginal_per_1000_requests_co2e_kg, "
                    "per_1000_requests_co2e_kg, break_even_requests, lifetime_requests_basis, sci_gco2e_per_request "
                    "FROM marts.model_lifecycle WHERE row_type = 'model'")[0]
    assert row[0] == pytest.approx(0.2) and row[1] == pytest.approx(0.1)
    assert row[2] == pytest.approx(0.1)  # 0.1 kg over 1,000 requests, per 1,000
    assert row[3] == pytest.approx(0.1 + 0.2 / 1_000_000 * 1000)  # + up-front over lifetime requests
    assert row[4] == pytest.approx(2000)  # 0.2 kg / 0.0001 kg per request
    assert row[5] == "expected"
    assert row[6] == pytest.approx(0.1)  # gCO2e per request: 100 g over 1,000 requests
    # without an expected lifetime the requests to date are used, and the row says so
    write(data, "models", [{"model": "m", "family": "f"}])
    db2, _ = run(data, tmp_path, "to_date.duckdb")
    per, basis = query(db2, "SELECT per_1000_requests_co2e_kg, lifetime_requests_basis FROM marts.model_lifecycle "
                            "WHERE row_type = 'model'")[0]
    assert (per, basis) == (pytest.approx(0.1 + 0.2), "to_date")
    components = scalar(db, "SELECT sum(value) FROM marts.model_lifecycle_components "
                            "WHERE model = 'm' AND criterion = 'co2e_location_kg'")
    assert components == pytest.approx(scalar(db, "SELECT total_co2e_location_kg FROM marts.model_lifecycle "
                                                  "WHERE row_type = 'model'"))
    hot = query(db, "SELECT component, share FROM marts.hotspots WHERE criterion = 'co2e_location_kg' ORDER BY rank")
    assert hot == [("training", pytest.approx(2 / 3)), ("inference", pytest.approx(1 / 3))]
    sens = dict(query(db, "SELECT variant, per_1000_requests_co2e_kg FROM marts.sensitivity WHERE parameter = 'pue'"))
    assert sens["x1.2"] == pytest.approx(1.2 * row[3])
    requests = dict(query(db, "SELECT variant, per_1000_requests_co2e_kg FROM marts.sensitivity "
                              "WHERE parameter = 'expected_lifetime_requests'"))
    assert requests["x10"] == pytest.approx(0.1 + 0.2 / 10_000_000 * 1000)


def test_family_shares_base_model_development_by_lifetime_requests(tmp_path):
    data = tmp_path / "data"
    _cluster(data, [
        {"job_id": "B", "model": "base", "stage": "training", "start": ts(0), "end": ts(120), "gpu": 0},
        {"job_id": "C1", "model": "chat", "stage": "inference", "start": ts(0), "end": ts(60), "gpu": 1},
        {"job_id": "C2", "model": "code", "stage": "inference", "start": ts(60), "end": ts(120), "gpu": 1},
    ], hours=2, gpus=2)
    write(data, "inference_usage", [{"model": "chat", "date": "2024-01-01", "requests": 1000},
                                    {"model": "code", "date": "2024-01-01", "requests": 500}])
    write(data, "models", [{"model": "base", "family": "f"},
                           {"model": "chat", "family": "f", "expected_lifetime_requests": 3_000_000},
                           {"model": "code", "family": "f", "expected_lifetime_requests": 1_000_000}])
    db, _ = run(data, tmp_path)
    rows = {r[0]: r[1:] for r in query(db, "SELECT model, shared_development_co2e_kg, per_1000_requests_co2e_kg, "
                                           "total_co2e_location_kg FROM marts.model_lifecycle")}
    assert rows["chat"][0] == pytest.approx(0.2 * 0.75) and rows["code"][0] == pytest.approx(0.2 * 0.25)
    assert rows["chat"][1] == pytest.approx(0.1 + 0.15 / 3_000_000 * 1000)
    assert rows["base"][1] is None  # serves nothing: its footprint is shared into the family
    assert rows["f"][2] == pytest.approx(0.2 + 0.1 + 0.1)  # family total counts the base model once
