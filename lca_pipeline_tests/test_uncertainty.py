"""Uncertainty of the headline numbers (issue 14): seeded Monte Carlo intervals in marts.model_lifecycle."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import T0, query, run
from lca_pipeline_tests.test_method import _measured_job

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow

HEADLINES = ("total_co2e_location_kg", "per_1000_requests_co2e_kg", "break_even_requests")
# Symmetric triangular on [-1, 1]: F(t) = (t + 1)^2 / 2 below 0, so the 5 % quantile is sqrt(0.1) - 1.
T05 = math.sqrt(0.1) - 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("uncertainty")
    generate_sample(root / "sample", days=1, interval_s=300)
    db, _ = run(root / "sample", root)
    return db


def test_interval_brackets_the_central_value_for_every_model_on_the_demo(demo):
    cols = ", ".join(f"{h}, {h}_p05, {h}_p50, {h}_p95" for h in HEADLINES)
    rows = query(demo, f"SELECT model, {cols} FROM marts.model_lifecycle WHERE row_type = 'model' ORDER BY model")
    assert len(rows) >= 3
    checked = 0
    for row in rows:
        model, values = row[0], row[1:]
        for i, name in enumerate(HEADLINES):
            central, p05, p50, p95 = values[4 * i: 4 * i + 4]
            if central is None:
                assert (p05, p50, p95) == (None, None, None), (model, name)
                continue
            assert p05 <= central <= p95, (model, name, p05, central, p95)
            assert p05 <= p50 <= p95
            checked += 1
        total, p05, _, p95 = values[0:4]
        assert p05 < total < p95, model  # a real spread, not a point
    assert checked >= 3 * 3 - 2  # a model serving nothing has no C_FU and no break-even


def _interval(tmp_path: Path, name: str, toml: str) -> tuple[float, float, float]:
    data = tmp_path / name
    _measured_job(data, T0, T0 + timedelta(hours=2), 100.0, grid_g=500.0, residual_g=None)
    (data / "lca.toml").write_text(toml)
    db, _ = run(data, tmp_path, f"{name}.duckdb")
    return query(db, "SELECT total_co2e_location_kg_p05, total_co2e_location_kg, total_co2e_location_kg_p95 "
                     "FROM marts.model_lifecycle WHERE row_type = 'model'")[0]


def test_widening_an_input_range_widens_the_interval(tmp_path):
    # One measured job: 100 kWh at PUE 1 and 500 g = 50 kg, no embodied (no device count). Only PUE varies.
    only_pue = ("[uncertainty]\ndraws = 20000\ngrid_rel = 0\nmeasured_sample_rel = 0\nmeasured_job_rel = 0\nestimated_rel = 0\n"
                "lifetime_rel = 0\nlifetime_requests_rel = 0\n")
    narrow = _interval(tmp_path, "narrow", only_pue + "pue_rel = 0.1\n")
    wide = _interval(tmp_path, "wide", only_pue + "pue_rel = 0.3\n")
    assert narrow[1] == wide[1] == pytest.approx(50.0)
    assert wide[2] - wide[0] > narrow[2] - narrow[0]
    # By hand: p05 = 50 x (1 + rel x (sqrt(0.1) - 1)). With 20,000 draws the standard error of the 5 %
    # quantile is sqrt(0.05 x 0.95 / 20000) / f(t05) = 0.0049 in t, i.e. 0.15 % of 50 kg at rel 0.3.
    assert narrow[0] == pytest.approx(50 * (1 + 0.1 * T05), rel=0.01)
    assert wide[0] == pytest.approx(50 * (1 + 0.3 * T05), rel=0.01)
    assert wide[2] == pytest.approx(50 * (1 - 0.3 * T05), rel=0.01)
    # All ranges zero: the interval collapses onto the central value.
    zero = _interval(tmp_path, "zero", only_pue + "pue_rel = 0\n")
    assert zero == (pytest.approx(50.0), pytest.approx(50.0), pytest.approx(50.0))


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path):
    a = _interval(tmp_path, "a", "[uncertainty]\nseed = 7\n")
    b = _interval(tmp_path, "b", "[uncertainty]\nseed = 7\n")
    c = _interval(tmp_path, "c", "[uncertainty]\nseed = 8\n")
    assert a == b
    assert a != c


def test_settings_are_checked_with_clear_messages(tmp_path):
    from lca_pipeline.settings import SettingsError, load_settings

    path = tmp_path / "lca.toml"
    path.write_text("[uncertainty]\npue_rel = 2\n")
    with pytest.raises(SettingsError, match=r"\[uncertainty\] pue_rel = 2; expected a number in \[0.0, 0.99\]"):
        load_settings(path)
    path.write_text('[market]\nmatching = "weekly"\n')
    with pytest.raises(SettingsError, match=r"\[market\] matching = 'weekly'; choose one of \('hourly', 'monthly', 'annual'\)"):
        load_settings(path)
    path.write_text('[market]\nmatching = "monthly"\n[uncertainty]\ndraws = 200\n')
    s = load_settings(path)
    assert s.market_matching == "monthly" and s.sql_params()["u_draws"] == 200.0
