"""Method fixes of issue 14, each against a hand-computed expectation: market-based Scope 2 as the
GHG Protocol Scope 2 Guidance defines it (allotment by overlap, hourly/monthly/annual matching without
banking, offsets never netted), any history, constant grid factors, CPU + DRAM estimate power."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lca_pipeline_tests.builders import T0, query, run, scalar, ts, write


def _iso(t: datetime) -> str:
    return t.isoformat() + "Z"


def _measured_job(data: Path, start: datetime, end: datetime, kwh: float, grid_g: float = 300.0,
                  residual_g: float | None = 400.0, matching: str | None = None, model: str = "m") -> None:
    """One site at PUE 1.0 and one job measured per job (jobs.energy_kwh), spread over its hours pro rata."""
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.0}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 8}])
    hours = []
    h = start.replace(minute=0, second=0, microsecond=0)
    while h < end:
        hours.append(h)
        h += timedelta(hours=1)
    write(data, "grid_intensity", [{"zone": "Z1", "ts": _iso(h), "gco2e_per_kwh": grid_g} for h in hours])
    write(data, "jobs", [{"job_id": "J", "model": model, "stage": "training", "state": "COMPLETED",
                          "start": _iso(start), "end": _iso(end), "site": "s1", "energy_kwh": kwh}])
    if residual_g is not None:
        write(data, "residual_mix", [{"zone": "Z1", "year": start.year, "gco2e_per_kwh": residual_g}])
    if matching:
        (data / "lca.toml").write_text(f'[market]\nmatching = "{matching}"\n')


def _contract(data: Path, valid_from: datetime, valid_to: datetime, mwh: float, g: float = 0.0) -> None:
    write(data, "energy_contracts", [{"site": "s1", "valid_from": _iso(valid_from), "valid_to": _iso(valid_to),
                                      "mwh": mwh, "gco2e_per_kwh": g, "kind": "ppa"}])


def _job(db: Path) -> tuple[float, float, str]:
    return query(db, "SELECT operational_co2e_location_kg, operational_co2e_market_kg, market_basis "
                     "FROM marts.job_impacts")[0]


HALF = timedelta(minutes=30)


def test_contract_valid_from_half_past_covers_a_job_of_the_same_window(tmp_path):
    # 700 kWh from 00:30 to 01:30, half in each hour; 0.7 MWh at 0 g valid exactly [00:30, 01:30):
    # each hour overlaps the window by 30 minutes and is allotted 350 kWh, all consumption is covered.
    data = tmp_path / "data"
    _measured_job(data, T0 + HALF, T0 + 3 * HALF, 700.0)
    _contract(data, T0 + HALF, T0 + 3 * HALF, 0.7)
    db, _ = run(data, tmp_path)
    loc, market, basis = _job(db)
    assert loc == pytest.approx(700 * 0.3, rel=1e-12)
    assert market == pytest.approx(0.0, abs=1e-9)
    assert basis == "contracts + residual_mix"


def test_partial_hour_gets_only_its_overlap(tmp_path):
    # The same contract, but the job runs 00:00-02:00 at 350 kWh/h: hour 0 is allotted 350 kWh for the
    # half hour it overlaps, hour 1 350 kWh; both hours are covered in full only by that share each.
    data = tmp_path / "data"
    _measured_job(data, T0, T0 + 4 * HALF, 700.0)
    _contract(data, T0 + HALF, T0 + 3 * HALF, 0.35)  # 175 kWh to each hour
    db, _ = run(data, tmp_path)
    _, market, _ = _job(db)
    assert market == pytest.approx((700 - 350) * 0.4, rel=1e-12)


def test_annual_matching_covers_a_mid_hour_run(tmp_path):
    # Certificates for exactly the run's 700 kWh, dated over 2024 (8,784 h, a leap year).
    year = (T0, datetime(2025, 1, 1))
    results = {}
    for matching in ("hourly", "annual"):
        data = tmp_path / matching
        _measured_job(data, T0 + HALF, T0 + 3 * HALF, 700.0, matching=matching)
        _contract(data, *year, 0.7)
        db, _ = run(data, tmp_path, f"{matching}.duckdb")
        results[matching] = _job(db)[1]
    assert results["annual"] == pytest.approx(0.0, abs=1e-9)
    # Hourly: each of the two hours is allotted 700 / 8784 kWh; the rest pays the 400 g residual mix.
    assert results["hourly"] == pytest.approx((700 - 2 * 700 / 8784) * 0.4, rel=1e-12)


def test_monthly_matching_does_not_bank_across_months(tmp_path):
    # 0.31 MWh valid 15 Jan - 15 Feb (31 days): 17 days (170 kWh) fall in January, 14 (140 kWh) in February.
    # A 310 kWh run on 20 January: monthly matching covers 170 kWh and does not borrow February's 140.
    start = T0 + timedelta(days=19) + HALF
    window = (T0 + timedelta(days=14), T0 + timedelta(days=45))
    results = {}
    for matching in ("monthly", "annual"):
        data = tmp_path / matching
        _measured_job(data, start, start + 2 * HALF, 310.0, matching=matching)
        _contract(data, *window, 0.31)
        db, _ = run(data, tmp_path, f"{matching}.duckdb")
        results[matching] = _job(db)[1]
    assert results["monthly"] == pytest.approx((310 - 170) * 0.4, rel=1e-12)
    assert results["annual"] == pytest.approx(0.0, abs=1e-9)


def test_offsets_are_reported_and_leave_both_scope2_bases_unchanged(tmp_path):
    dbs = {}
    for name in ("without", "with"):
        data = tmp_path / name
        _measured_job(data, T0 + HALF, T0 + 3 * HALF, 700.0)
        _contract(data, T0 + timedelta(days=1), T0 + timedelta(days=2), 0.1)  # a later day: market = residual
        if name == "with":
            write(data, "offsets", [
                {"model": "m", "retired_on": "2024-03-01", "tco2e": 5.0, "kind": "removal", "registry": "Puro"},
                {"model": "", "retired_on": "2024-03-01", "tco2e": 2.0, "kind": "avoidance", "registry": "Verra"},
            ])
        dbs[name], _ = run(data, tmp_path, f"{name}.duckdb")
    cols = ("total_co2e_location_kg, total_co2e_market_kg, operational_co2e_location_kg, "
            "operational_co2e_market_kg")
    for table in ("marts.model_lifecycle", "marts.job_impacts", "marts.stage_impacts"):
        c = cols if table == "marts.model_lifecycle" else "operational_co2e_location_kg, operational_co2e_market_kg"
        q = f"SELECT {c} FROM {table} ORDER BY ALL"
        assert query(dbs["with"], q) == query(dbs["without"], q), table
    loc, market = query(dbs["with"], "SELECT total_co2e_location_kg, total_co2e_market_kg FROM marts.model_lifecycle "
                                     "WHERE row_type = 'model'")[0]
    assert (loc, market) == (pytest.approx(210.0), pytest.approx(280.0))
    assert scalar(dbs["with"], "SELECT offsets_retired_tco2e FROM marts.model_lifecycle WHERE row_type = 'model'") == 5.0
    assert scalar(dbs["without"], "SELECT offsets_retired_tco2e FROM marts.model_lifecycle WHERE row_type = 'model'") is None
    assert scalar(dbs["with"], "SELECT sum(tco2e) FROM staging.offsets WHERE model IS NULL") == 2.0
