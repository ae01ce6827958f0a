"""The counter rule (counter difference when plausible, else the power trapezoid) lives in sql/macros
only, and behaves as docs/methodology.md states."""

from datetime import datetime, timedelta

import duckdb
import pytest

from lca_pipeline import sql

T0 = datetime(2024, 3, 4, 12, 0, 0)
MAX_W = 1000.0


@pytest.fixture
def conn():
    c = duckdb.connect()
    sql.create_macros(c)
    yield c
    c.close()


def _interval(conn, c0, c1, p0, p1, seconds):
    t1 = T0 + timedelta(seconds=seconds)
    return conn.execute(
        "SELECT interval_method($c0, $c1, $t0, $t1, $w), interval_kwh($c0, $c1, $p0, $p1, $t0, $t1, $w)",
        {"c0": c0, "c1": c1, "p0": p0, "p1": p1, "t0": T0, "t1": t1, "w": MAX_W},
    ).fetchone()


def test_counter_difference_when_plausible(conn):
    # 500 W for 10 s is 5,000 J = 5000 / 3.6e6 kWh; the counter says exactly that.
    method, kwh = _interval(conn, 1.0, 1.0 + 5000 / 3.6e6, 400.0, 600.0, 10)
    assert method == "counter"
    assert kwh == pytest.approx(5000 / 3.6e6, rel=1e-12)


def test_trapezoid_when_the_counter_is_missing(conn):
    method, kwh = _interval(conn, None, 2.0, 400.0, 600.0, 10)
    assert method == "power"
    assert kwh == pytest.approx((400 + 600) / 2 * 10 / 3.6e6, rel=1e-12)


def test_trapezoid_after_a_reset(conn):
    method, kwh = _interval(conn, 5.0, 0.001, 400.0, 600.0, 10)
    assert method == "power_after_reset"
    assert kwh == pytest.approx(500 * 10 / 3.6e6, rel=1e-12)


def test_trapezoid_when_the_counter_is_implausible(conn):
    # 2 kWh in 10 s would be 720 kW, above the 1 kW bound: the power readings are used.
    method, kwh = _interval(conn, 1.0, 3.0, 400.0, 600.0, 10)
    assert method == "power"
    assert kwh == pytest.approx(500 * 10 / 3.6e6, rel=1e-12)


def test_counter_plausible_at_the_bound(conn):
    # exactly max_power_w over the interval is still plausible
    exact = MAX_W * 10 / 3.6e6
    assert conn.execute("SELECT counter_plausible(0.0, $c1, $t0, $t1, $w)",
                        {"c1": exact, "t0": T0, "t1": T0 + timedelta(seconds=10), "w": MAX_W}).fetchone()[0]


def test_the_counter_rule_is_written_once():
    """The plausibility bound appears in one SQL file: the statements call the macros."""
    holders = sorted(name for name in sql.available() if "3.6e6 <=" in sql.load(name))
    assert holders == ["macros/counter_plausible"], holders
    energy = sql.load("intermediate/int_telemetry_energy_hourly")
    assert energy.count("interval_kwh(") == 2 and energy.count("interval_method(") == 2
    assert "counter_plausible(" in energy
