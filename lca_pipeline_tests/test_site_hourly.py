"""marts.site_hourly_impacts: one row per site and UTC hour, summing every ledger row of the hour."""

from __future__ import annotations

import pytest

from lca_pipeline_tests.builders import base_site, constant_power, hourly_grid, query, run, scalar, ts, write

# Every test here runs the pipeline: not in the everyday `pytest -m "not slow"` subset.
pytestmark = pytest.mark.slow


def test_site_hour_sums_jobs_and_idle_capacity(tmp_path):
    data = tmp_path / "data"
    base_site(data)  # PUE 1.5, WUE 0.5 L/kWh, EWIF 2.0 L/kWh
    (data / "lca.toml").write_text('[allocation]\ngpu_sharing = "split"\n')  # A and B share GPU 0
    hourly_grid(data, {0: 100.0, 1: 200.0, 2: 200.0})
    # GPU 0 at 300 W and GPU 1 at 100 W from 00:00 to 02:00: 0.4 kWh of IT energy in each hour.
    write(data, "gpu_samples", constant_power("h1", 0, 300, 0, 120, 60) + constant_power("h1", 1, 100, 0, 120, 60))
    write(data, "jobs", [
        {"job_id": "A", "model": "m", "stage": "training", "state": "COMPLETED", "start": ts(0), "end": ts(30)},
        {"job_id": "B", "model": "m", "stage": "training", "state": "FAILED", "start": ts(15), "end": ts(60)},
        {"job_id": "C", "model": "m", "stage": "evaluation", "state": "COMPLETED", "start": ts(30), "end": ts(90)},
    ])
    write(data, "allocations", [
        {"job_id": "A", "host": "h1", "gpu": 0}, {"job_id": "B", "host": "h1", "gpu": 0},
        {"job_id": "C", "host": "h1", "gpu": 1},
    ])
    db, _ = run(data, tmp_path)
    rows = query(db, "SELECT hour(hour_start), zone, pue, location_gco2e_per_kwh, gpu_hours, energy_it_kwh, "
                     "energy_unallocated_it_kwh, energy_facility_kwh, operational_co2e_location_kg, water_onsite_l, "
                     "water_offsite_l, jobs FROM marts.site_hourly_impacts "
                     "WHERE site = 's1' AND energy_it_kwh > 0 ORDER BY hour_start")
    assert [r[0] for r in rows] == [0, 1]
    h0, h1 = rows
    assert h0[1:4] == ("Z1", 1.5, 100.0) and h1[1:4] == ("Z1", 1.5, 200.0)
    # GPU-hours: A 0.5 + B 0.75 + C 0.5 in hour 0; C 0.5 in hour 1.
    assert h0[4] == pytest.approx(1.75, rel=1e-9) and h1[4] == pytest.approx(0.5, rel=1e-9)
    for h in rows:
        assert h[5] == pytest.approx(0.4, rel=1e-9)  # IT energy
        assert h[7] == pytest.approx(0.6, rel=1e-9)  # facility = IT x 1.5
        assert h[9] == pytest.approx(0.2, rel=1e-9)  # on-site water = IT x 0.5
        assert h[10] == pytest.approx(1.2, rel=1e-9)  # off-site water = facility x 2.0
    # Unallocated: GPU 1 idle half of hour 0 (0.05 kWh); GPU 0 all of hour 1 (0.3) and GPU 1 half (0.05).
    assert h0[6] == pytest.approx(0.05, rel=1e-9) and h1[6] == pytest.approx(0.35, rel=1e-9)
    assert h0[8] == pytest.approx(0.6 * 0.1, rel=1e-9) and h1[8] == pytest.approx(0.6 * 0.2, rel=1e-9)
    assert (h0[11], h1[11]) == (3, 1)
    # Nothing lost or counted twice against the hourly ledger.
    assert scalar(db, "SELECT sum(operational_co2e_market_kg) FROM marts.site_hourly_impacts") == pytest.approx(
        scalar(db, "SELECT sum(co2e_market_kg) FROM intermediate.impacts_hourly"), rel=1e-12)
