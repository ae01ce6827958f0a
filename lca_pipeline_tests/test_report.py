"""The static HTML report (lca_pipeline.report) on small hand-written warehouses.

Self-contained: every table is created here with a few rows; nothing depends on the pipeline.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import re
from pathlib import Path

import duckdb
import pytest

from lca_pipeline import report
from lca_pipeline.report import (
    NOT_AVAILABLE,
    SECTION_IDS,
    build_report,
    format_number,
    per_request_curve,
    render_charts,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"')

MODEL_LIFECYCLE = """
CREATE TABLE marts.model_lifecycle AS SELECT * FROM (VALUES
    ('helios-7b', 'helios', 2000000::BIGINT, 1000000000::BIGINT, 1000000000::BIGINT, 'expected',
     1500.0, 600.0, 900.0, 2500.0, 0.0012, 400.0, 150.0, 40.0, 10.0,
     0.00044, 0.00015, 1000000.0 * 400.0 / 0.15 / 1000.0, 0.44, 500.0, 700.0, 0.0004, 0.0005, 2.5e6, 2.8e6),
    ('kestrel-asr', 'kestrel', 500000::BIGINT, NULL::BIGINT, 500000::BIGINT, 'to_date',
     300.5, 120.25, 80.0, 700.0, 0.0003, 100.0, 15.0, 4.0, 1.25,
     0.23, 0.03, 100.0 / 0.03 * 1000.0, 230.0, 100.0, 140.0, 0.2, 0.26, 3.2e6, 3.4e6)
) AS t(model, family, requests_to_date, expected_lifetime_requests, lifetime_requests_used,
       lifetime_requests_basis, energy_facility_kwh, total_co2e_location_kg, total_co2e_market_kg, operational_water_l,
       adp_kgsbeq, upfront_co2e_kg, inference_co2e_kg, embodied_co2e_kg, unallocated_co2e_kg,
       per_1000_requests_co2e_kg, marginal_per_1000_requests_co2e_kg, break_even_requests,
       sci_gco2e_per_request, total_co2e_location_kg_p05, total_co2e_location_kg_p95,
       per_1000_requests_co2e_kg_p05, per_1000_requests_co2e_kg_p95, break_even_requests_p05,
       break_even_requests_p95)
"""
COMPONENTS = """
CREATE TABLE marts.model_lifecycle_components AS SELECT * FROM (VALUES
    ('helios-7b', 'training', 'co2e_location_kg', 300.0, 'kg CO2e'),
    ('helios-7b', 'data', 'co2e_location_kg', 20.0, 'kg CO2e'),
    ('helios-7b', 'experimentation', 'co2e_location_kg', 60.0, 'kg CO2e'),
    ('helios-7b', 'inference', 'co2e_location_kg', 150.0, 'kg CO2e'),
    ('helios-7b', 'embodied', 'co2e_location_kg', 40.0, 'kg CO2e'),
    ('helios-7b', 'unallocated', 'co2e_location_kg', 10.0, 'kg CO2e'),
    ('helios-7b', 'training', 'energy_facility_kwh', 800.0, 'kWh'),
    ('kestrel-asr', 'training', 'co2e_location_kg', 90.0, 'kg CO2e'),
    ('kestrel-asr', 'evaluation', 'co2e_location_kg', 10.0, 'kg CO2e'),
    ('kestrel-asr', 'inference', 'co2e_location_kg', 15.0, 'kg CO2e'),
    ('kestrel-asr', 'post_training', 'co2e_location_kg', 5.25, 'kg CO2e')
) AS t(model, component, criterion, value, unit)
"""
HOTSPOTS = """
CREATE TABLE marts.hotspots AS SELECT * FROM (VALUES
    ('helios-7b', 'training', 'co2e_location_kg', 300.0, 0.5, 0.5),
    ('helios-7b', 'inference', 'co2e_location_kg', 150.0, 0.25, 0.75),
    ('kestrel-asr', 'training', 'co2e_location_kg', 90.0, 0.75, 0.75)
) AS t(model, component, criterion, value, share, cumulative_share)
"""
DATA_QUALITY = """
CREATE TABLE marts.data_quality AS SELECT * FROM (VALUES
    ('helios-7b', 'co2e_location_kg', 600.0, 0.9, 0.05, 0.05, 0.998, 2::BIGINT, 'component_model'),
    ('kestrel-asr', 'co2e_location_kg', 120.25, 0.5, 0.0, 0.5, NULL, 0::BIGINT, 'device_default')
) AS t(model, criterion, total, measured_sample_share, measured_job_share, estimated_share,
       telemetry_coverage, grid_fallback_hours, embodied_methods)
"""
SENSITIVITY = """
CREATE TABLE marts.sensitivity AS SELECT * FROM (VALUES
    ('helios-7b', 'lifetime_requests', 'x0.1', 0.004, 600.0, 809.1),
    ('helios-7b', 'pue', '+10%', 0.00048, 650.0, 8.3),
    ('kestrel-asr', 'grid', 'market', 0.2, 80.0, -13.0)
) AS t(model, parameter, variant, per_1000_requests_co2e_kg, total_co2e_kg, change_pct)
"""
FLEET = """
CREATE TABLE marts.fleet_daily AS SELECT * FROM (VALUES
    ('site-a', DATE '2024-03-04', 420.0, 146.0, 262.0, 297.0),
    ('site-a', DATE '2024-03-05', 421.0, 148.0, 261.0, 321.0),
    ('site-a', DATE '2024-03-06', 360.0, 133.0, 223.0, 290.0),
    ('site-b', DATE '2024-03-04', 185.0, 36.0, 35.0, 140.0),
    ('site-b', DATE '2024-03-05', 195.0, 37.0, 38.0, 150.0),
    ('site-b', DATE '2024-03-06', 209.0, 44.0, 42.0, 160.0)
) AS t(site, date, energy_facility_kwh, operational_co2e_location_kg, operational_co2e_market_kg, measured_it_kwh)
"""
COVERAGE = """
CREATE TABLE marts.energy_coverage AS SELECT * FROM (VALUES
    ('fleet', NULL, 1425.0, 1411.4, 2.2, 11.4, 0.992, NULL, 1::BIGINT, 0::BIGINT, 0::BIGINT),
    ('model', 'helios-7b', 529.4, 529.4, 0.0, 0.0, 1.0, 0.99996, 0::BIGINT, 0::BIGINT, 0::BIGINT),
    ('model', NULL, 199.5, 199.5, 0.0, 0.0, 1.0, NULL, 1::BIGINT, 0::BIGINT, 0::BIGINT)
) AS t(scope, model, energy_it_kwh, energy_measured_sample_kwh, energy_measured_job_kwh,
       energy_estimated_kwh, measured_share, telemetry_coverage, grid_hours_interpolated,
       grid_hours_nearest, grid_hours_annual_mean)
"""
AUDIT = [
    """CREATE TABLE audit.factor_sets AS SELECT * FROM (VALUES
        ('factor_device_power', 'data/factors/device_power_defaults.csv', '2026.11-1',
         'fb212cd507cf6ea90cbf3d4b954250f23de9be032272cdeccc869cfcbb50dae3', 13::BIGINT,
         ['NVIDIA H100 datasheet', 'Luccioni et al. 2023 <JMLR>'], 'run-1'),
        ('factor_embodied_defaults', 'data/factors/embodied_defaults.csv', '2026.11-1',
         '80eb6f16898c0000000000000000000000000000000000000000000000000000', 18::BIGINT,
         ['Gupta et al. 2022 ACT ISCA'], 'run-1')
    ) AS t(factor_table, path, version, sha256, rows, sources, run_id)""",
    """CREATE TABLE audit.runs AS SELECT * FROM (VALUES
        ('run-1', 'run-1', TIMESTAMP '2024-03-07 10:00:00', TIMESTAMP '2024-03-07 10:00:09.5',
         '0.1.0', 'abc1234', 'eb157bda42547423', 'data/sample/lca.toml', 'data/sample',
         '2024-03-04..2024-03-06', 'success')
    ) AS t(run_id, dagster_run_id, started_at, ended_at, package_version, git_describe,
           settings_hash, settings_source, data_dir, partition_range, status)""",
    """CREATE TABLE audit.quarantine AS SELECT * FROM (VALUES
        ('run-1', 'gpu_samples', 'negative power'),
        ('run-1', 'gpu_samples', 'negative power'),
        ('run-1', 'jobs', 'missing required value')
    ) AS t(run_id, input, reason)""",
    """CREATE TABLE staging.grid_intensity AS SELECT * FROM (VALUES
        ('DE', TIMESTAMP '2024-03-04 00:00:00', 380.0, 'Electricity Maps (ODbL)'),
        ('FR', TIMESTAMP '2024-03-04 00:00:00', 50.0, 'synthetic (lca_pipeline.sample)'),
        ('FR', TIMESTAMP '2024-03-04 01:00:00', 52.0, 'synthetic (lca_pipeline.sample)')
    ) AS t(zone, hour_start, gco2e_per_kwh, source)""",
]
ALL_TABLES = {
    "marts.model_lifecycle": MODEL_LIFECYCLE,
    "marts.model_lifecycle_components": COMPONENTS,
    "marts.hotspots": HOTSPOTS,
    "marts.data_quality": DATA_QUALITY,
    "marts.sensitivity": SENSITIVITY,
    "marts.fleet_daily": FLEET,
    "marts.energy_coverage": COVERAGE,
}


def make_db(path: Path, tables: dict[str, str] | None = None, audit: bool = True) -> Path:
    conn = duckdb.connect(str(path))
    try:
        for schema in ("marts", "audit", "staging"):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for sql in (ALL_TABLES if tables is None else tables).values():
            conn.execute(sql)
        if audit:
            for sql in AUDIT:
                conn.execute(sql)
    finally:
        conn.close()
    return path


def section(text: str, sid: str) -> str:
    """The HTML of one section: from its <h2> to the next <h2> (or the end)."""
    start = text.index(f'<h2 id="{sid}">')
    nxt = text.find("<h2 ", start + 1)
    return text[start: nxt if nxt >= 0 else len(text)]


def decode_images(text: str) -> list[bytes]:
    return [base64.b64decode(m, validate=True) for m in IMG.findall(text)]


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[Path, report.ReportSummary, str]:
    d = tmp_path_factory.mktemp("report")
    db = make_db(d / "lca.duckdb")
    out = d / "out" / "report.html"
    summary = build_report(db, out)
    return db, summary, out.read_text(encoding="utf-8")


def test_report_renders_every_section(full):
    _, summary, text = full
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert summary.sections == SECTION_IDS == (
        "summary", "lifecycle", "per-request", "fleet", "data-quality", "hotspots", "sensitivity", "method")
    for sid in SECTION_IDS:
        assert text.count(f'<h2 id="{sid}">') == 1, sid
    # in order
    positions = [text.index(f'<h2 id="{sid}">') for sid in SECTION_IDS]
    assert positions == sorted(positions)
    assert summary.unavailable == () and summary.missing_tables == ()
    assert NOT_AVAILABLE not in text
    assert summary.bytes == summary.path.stat().st_size == len(text.encode("utf-8"))


def test_sections_show_their_numbers(full):
    _, _, text = full
    s = section(text, "summary")
    assert "helios-7b" in s and "kestrel-asr" in s
    assert "1,000,000,000" in s  # exact int with separators
    assert "120" in s and "120.25" not in s  # 3 significant digits
    lc = section(text, "lifecycle")
    # components in the report's order, whatever order the rows came in
    heads = re.findall(r"<th>([^<]+)</th>", lc)
    assert heads == ["model", "data", "experimentation", "training", "post_training",
                     "evaluation", "inference", "embodied", "unallocated", "total"]
    assert "580" in lc  # helios-7b total: 20 + 60 + 300 + 150 + 40 + 10
    assert "800" not in lc  # another criterion is not mixed in
    fl = section(text, "fleet")
    assert "site-a" in fl and "2024-03-06" in fl and "1,200" in fl  # site-a facility kWh total
    dq = section(text, "data-quality")
    assert "99.8 %" in dq and "unallocated / shared" in dq and "(whole fleet)" in dq
    assert re.search(r"gpu_samples</td><td>negative power</td><td class=\"num\">2</td>", dq)
    assert "75.0 %" in section(text, "hotspots")
    sens = section(text, "sensitivity")
    assert "+809 %" in sens and "-13.0 %" in sens
    m = section(text, "method")
    for needle in ("factor_device_power", "fb212cd507cf", "2026.11-1", "NVIDIA H100 datasheet",
                   "Electricity Maps (ODbL)", "synthetic (lca_pipeline.sample)", "run-1",
                   "2024-03-07 10:00:09", "functional unit"):
        assert needle in m, needle
    assert "fb212cd507cf6" not in m  # sha256 shortened to 12
    assert m.count("synthetic (lca_pipeline.sample)") == 1  # DISTINCT


def test_images_are_nonblank_pngs(full):
    from matplotlib.image import imread

    _, summary, text = full
    images = decode_images(text)
    assert len(images) == summary.charts == 5
    assert text.count("<img") == 5
    for png in images:
        assert png.startswith(PNG_SIGNATURE) and len(png) > 1000
        pixels = imread(io.BytesIO(png), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert float(pixels.var()) > 0


def test_charts_sit_in_their_sections(full):
    _, _, text = full
    # summary: the error bars of the 90 % intervals; sensitivity: the tornado chart (issue 14)
    for sid in ("summary", "lifecycle", "per-request", "fleet", "sensitivity"):
        assert len(decode_images(section(text, sid))) == 1, sid
    for sid in ("data-quality", "hotspots", "method"):
        assert "<img" not in section(text, sid)


def test_self_contained(full):
    _, _, text = full
    lowered = text.lower()
    # no resource or link to the network, protocol-relative included
    assert not re.search(r"""(src|href|srcset|action)\s*=\s*["']?\s*(https?:|//|ftp:)""", lowered)
    assert "http://" not in lowered and "https://" not in lowered
    assert "<script" not in lowered and "javascript:" not in lowered
    assert "@import" not in lowered and "url(" not in lowered and "<link" not in lowered
    assert "@font-face" not in lowered and "<iframe" not in lowered
    # every href is an in-page anchor to a section
    for href in re.findall(r'href="([^"]*)"', text):
        assert href.startswith("#") and href[1:] in SECTION_IDS


def test_text_is_escaped(tmp_path):
    db = make_db(tmp_path / "lca.duckdb")
    conn = duckdb.connect(str(db))
    conn.execute("INSERT INTO marts.hotspots VALUES ('<script>alert(1)</script>', 'a&b', "
                 "'co2e_location_kg', 1.0, 1.0, 1.0)")
    conn.close()
    text = build_report(db, tmp_path / "r.html").path.read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "a&amp;b" in text
    assert "Luccioni et al. 2023 &lt;JMLR&gt;" in text  # factor sources are escaped too


def test_deterministic(tmp_path, full):
    db, _, text = full
    again = build_report(db, tmp_path / "again.html")
    assert again.path.read_text(encoding="utf-8") == text
    conn = duckdb.connect(str(db), read_only=True)
    try:
        a, b = render_charts(conn), render_charts(conn)
    finally:
        conn.close()
    assert list(a) == ["intervals", "lifecycle", "per-request", "fleet", "tornado"]
    assert a == b
    assert [hashlib.sha256(p).digest() for p in a.values()] == [
        hashlib.sha256(p).digest() for p in decode_images(text)]


def test_render_charts_pngs(full):
    db, _, _ = full
    conn = duckdb.connect(str(db), read_only=True)
    try:
        charts = render_charts(conn)
    finally:
        conn.close()
    assert set(charts) == {"intervals", "lifecycle", "per-request", "fleet", "tornado"}
    assert all(p.startswith(PNG_SIGNATURE) for p in charts.values())
    assert all(b"Software" not in p[:4096] for p in charts.values())  # no version stamp


def test_database_not_modified(tmp_path):
    db = make_db(tmp_path / "lca.duckdb")
    before = db.read_bytes()
    build_report(db, tmp_path / "r.html")
    assert db.read_bytes() == before


def test_missing_marts_say_not_available(tmp_path):
    # only the marts that exist today, as in a warehouse the lead has not extended yet
    tables = {k: ALL_TABLES[k] for k in ("marts.fleet_daily", "marts.energy_coverage")}
    db = make_db(tmp_path / "lca.duckdb", tables)
    summary = build_report(db, tmp_path / "r.html")
    text = summary.path.read_text(encoding="utf-8")
    assert summary.sections == SECTION_IDS
    for sid in ("summary", "lifecycle", "per-request", "hotspots", "sensitivity"):
        assert NOT_AVAILABLE in section(text, sid), sid
    assert set(summary.unavailable) == {"summary", "lifecycle", "per-request", "hotspots", "sensitivity"}
    assert "marts.model_lifecycle" in summary.missing_tables
    assert "marts.data_quality" in summary.missing_tables
    for sid in ("fleet", "method"):
        assert NOT_AVAILABLE not in section(text, sid), sid
    dq = section(text, "data-quality")
    assert dq.count(NOT_AVAILABLE) == 1 and "marts.data_quality" in dq and "negative power" in dq
    assert summary.charts == 1 == len(decode_images(section(text, "fleet")))


def test_empty_database(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    summary = build_report(db, tmp_path / "r.html")
    text = summary.path.read_text(encoding="utf-8")
    assert summary.charts == 0 and "<img" not in text
    for sid in SECTION_IDS:
        assert f'<h2 id="{sid}">' in text
        if sid != "method":
            assert NOT_AVAILABLE in section(text, sid), sid
    assert section(text, "method").count(NOT_AVAILABLE) == 3  # factors, grid, runs
    assert "No run recorded" in text
    assert set(summary.unavailable) == set(SECTION_IDS) - {"method"}


def test_missing_column_is_named(tmp_path):
    tables = dict(ALL_TABLES)
    tables["marts.hotspots"] = HOTSPOTS.replace("cumulative_share)", "cum_share)")
    db = make_db(tmp_path / "lca.duckdb", tables)
    summary = build_report(db, tmp_path / "r.html")
    hs = section(summary.path.read_text(encoding="utf-8"), "hotspots")
    assert NOT_AVAILABLE in hs and "cumulative_share" in hs
    assert summary.unavailable == ("hotspots",)
    assert summary.missing_tables == ("marts.hotspots: cumulative_share",)


def test_empty_tables_do_not_crash(tmp_path):
    db = make_db(tmp_path / "lca.duckdb")
    conn = duckdb.connect(str(db))
    for table in ALL_TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.close()
    summary = build_report(db, tmp_path / "r.html")
    assert summary.charts == 0 and summary.unavailable == ()


def test_missing_database_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_report(tmp_path / "nope.duckdb", tmp_path / "r.html")
    assert not (tmp_path / "nope.duckdb").exists()


def test_per_request_curve():
    marginal, upfront = 0.15, 400.0  # kg per 1,000 requests, kg
    break_even = upfront * 1000 / marginal
    # at break-even the amortised up-front part equals the marginal part
    assert math.isclose(per_request_curve(marginal, upfront, break_even), 2 * marginal)
    assert math.isclose(per_request_curve(marginal, upfront, 1e3), marginal + upfront)
    assert per_request_curve(marginal, upfront, 1e15) == pytest.approx(marginal, rel=1e-6)


def test_format_cell():
    assert report.format_cell("share", 0.9920278) == "99.2 %"
    assert report.format_cell("change_pct", 8.3) == "+8.30 %"
    assert report.format_cell("change_pct", -13.0) == "-13.0 %"
    assert report.format_cell("lifetime_requests_used", 926800.0) == "926,800"  # a count, exact
    assert report.format_cell("break_even_requests", 4868886.2) == "4,870,000"
    assert report.format_cell("sources", ["a", "b"]) == "a, b"
    assert report.format_cell("model", None) == "\u2014"


@pytest.mark.parametrize("value, text", [
    (None, "\u2014"), (float("nan"), "\u2014"), (0.0, "0"), (1234567, "1,234,567"),
    (1234567.0, "1,230,000"), (12.345, "12.3"), (999.6, "1,000"), (0.001234, "0.00123"),
    (-45.678, "-45.7"), (1.0, "1.00"), (3.2e-7, "3.20e-07"), (2.5e18, "2.50e+18"),
    (float("inf"), "\u221e"),
])
def test_format_number(value, text):
    assert format_number(value) == text


def test_lifecycle_with_row_types(tmp_path):
    # marts.model_lifecycle may add row_type ('model', 'family', 'unallocated') with the unallocated
    # row's model NULL, and extra columns; components may carry a model-NULL unallocated row
    tables = dict(ALL_TABLES)
    tables["marts.model_lifecycle"] = MODEL_LIFECYCLE
    db = make_db(tmp_path / "lca.duckdb", tables)
    conn = duckdb.connect(str(db))
    conn.execute("ALTER TABLE marts.model_lifecycle ADD COLUMN row_type VARCHAR DEFAULT 'model'")
    conn.execute("ALTER TABLE marts.model_lifecycle ADD COLUMN per_1000_requests_co2e_market_kg DOUBLE")
    conn.execute("ALTER TABLE marts.model_lifecycle ADD COLUMN sci_boundary VARCHAR DEFAULT 'serving only'")
    conn.execute("UPDATE marts.model_lifecycle SET per_1000_requests_co2e_market_kg = 0.777")
    conn.execute("""INSERT INTO marts.model_lifecycle BY NAME
        SELECT 'family' AS row_type, 'aaa-family' AS model, 'aaa-family' AS family,
               1.0 AS marginal_per_1000_requests_co2e_kg, 5.0 AS upfront_co2e_kg,
               'sum of members' AS lifetime_requests_basis""")
    conn.execute("""INSERT INTO marts.model_lifecycle BY NAME
        SELECT 'unallocated' AS row_type, NULL AS model, 99.0 AS total_co2e_location_kg,
               'kept separate' AS lifetime_requests_basis""")
    conn.execute("INSERT INTO marts.model_lifecycle_components VALUES "
                 "(NULL, 'unallocated', 'co2e_location_kg', 99.0, 'kg CO2e')")
    conn.close()
    summary = build_report(db, tmp_path / "r.html")
    text = summary.path.read_text(encoding="utf-8")
    assert summary.unavailable == ()
    s = section(text, "summary")
    assert "unallocated capacity" in s and "0.777" in s and "serving only" in s
    # models first, then the family, then the unallocated row
    unalloc = '<span class="nil">unallocated capacity</span>'
    assert s.index("kestrel-asr") < s.index("aaa-family") < s.index(unalloc)
    pr = section(text, "per-request")
    assert "aaa-family" not in pr and unalloc not in pr and "kestrel-asr" in pr
    lc = section(text, "lifecycle")
    assert lc.index("kestrel-asr") < lc.index("unallocated capacity")
    assert len(decode_images(text)) == 5  # + intervals and tornado (issue 14)


def test_summary_shows_intervals_and_sensitivity_is_a_tornado(full):
    _, _, text = full
    s = section(text, "summary")
    assert "90 % interval" in s
    # helios-7b: 500 to 700 kg around 600; kestrel-asr break-even 3,200,000 to 3,400,000
    assert re.search(r"helios-7b</td>.*?600</td><td class=\"num\">500</td><td class=\"num\">700</td>", s, re.S)
    assert "3,200,000" in s and "3,400,000" in s
    sens = section(text, "sensitivity")
    assert "<details><summary>All variants (3 rows)</summary>" in sens
    assert "Tornado chart" in sens


def test_narrow_window_keeps_key_columns_and_no_repeated_text(tmp_path):
    db = make_db(tmp_path / "lca.duckdb")
    conn = duckdb.connect(str(db))
    conn.execute("ALTER TABLE marts.data_quality ADD COLUMN embodied_missing_criteria VARCHAR "
                 "DEFAULT 'network (co2e,water,adp)'")
    conn.execute("UPDATE marts.model_lifecycle SET adp_kgsbeq = NULL")
    conn.close()
    text = build_report(db, tmp_path / "r.html").path.read_text(encoding="utf-8")
    s = section(text, "summary")
    split = s[s.index("Up-front and inference carbon"):]
    heads = re.findall(r"<th>([^<]+)</th>", split)[:4]
    # per 1,000 requests and break-even first: visible in a 900 px window without scrolling
    assert heads == ["model", "kg CO\u2082e per 1,000 requests", "marginal kg CO\u2082e per 1,000 requests",
                     "break-even requests"]
    assert "position: sticky" in text  # the model column stays in view when a table scrolls
    assert "ADP (kg Sb eq) is empty" in s
    dq = section(text, "data-quality")
    assert dq.count("network (co2e,water,adp)") == 1  # fleet-wide text once, not on every row


def test_adp_note_only_when_adp_is_empty(full):
    _, _, text = full
    assert "ADP (kg Sb eq) is empty" not in section(text, "summary")


def test_asset_draws_each_chart_once_and_shows_the_report_png(tmp_path, monkeypatch):
    import dagster as dg

    from lca_pipeline.assets.report import report as report_asset
    from lca_pipeline.resources import Warehouse

    db = make_db(tmp_path / "lca.duckdb")
    conn = duckdb.connect(str(db))
    conn.execute("ALTER TABLE marts.model_lifecycle ADD COLUMN row_type VARCHAR DEFAULT 'model'")
    conn.close()
    drawn: list[object] = []
    real_png = report._png
    monkeypatch.setattr(report, "_png", lambda fig: drawn.append(fig) or real_png(fig))
    result = dg.materialize([report_asset], resources={"warehouse": Warehouse(path=str(db))})
    assert result.success
    # intervals, lifecycle, per-request, fleet, tornado: each drawn once (the asset drew all twice)
    assert len(drawn) == 5
    (mat,) = result.asset_materializations_for_node("marts__report")
    md = mat.metadata
    text = Path(md["path"].value).read_text(encoding="utf-8")
    shown = md["per_request_chart"].value.split("base64,", 1)[1].rstrip(")")
    assert base64.b64decode(shown) == decode_images(section(text, "per-request"))[0]
    # explain/model_summary: total kg, per 1,000 requests, break-even = up-front x 1,000 / marginal per 1,000
    summary = md["summary"].value
    assert "| helios-7b | 600.000 | 0.00044 | 2,666,667 |" in summary  # 400 x 1000 / 0.15
    assert "| kestrel-asr | 120.250 | 0.23" in summary and "| 3,333,333 |" in summary  # 100 x 1000 / 0.03


def test_code_version_changes_with_the_report_sql_and_module(tmp_path, monkeypatch):
    from lca_pipeline import sql
    from lca_pipeline.assets.report import report as report_asset

    base = report.code_version()
    want = hashlib.sha256(sql.code_version(report.STATEMENTS).encode())
    want.update(Path(report.__file__).read_bytes())
    assert base == want.hexdigest()[:16]
    assert report_asset.code_versions_by_key[report_asset.key] == report.code_version(["explain/model_summary"])
    real_load = sql.load
    for changed in ("report/hotspots", "report/columns"):
        monkeypatch.setattr(sql, "load", lambda n, c=changed: real_load(n) + ("\n-- edited" if n == c else ""))
        assert report.code_version() != base, changed
    monkeypatch.setattr(sql, "load", real_load)
    source = tmp_path / "report.py"
    source.write_text(Path(report.__file__).read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(report, "__file__", str(source))
    assert report.code_version() != base


def test_statements_return_the_columns_the_tables_are_labelled_with(full):
    # the tables' headers come from the Python tuples, their cells from sql/report/: they must agree
    db, _, _ = full
    expected = {
        "per_request": report.PER_REQUEST_COLS, "intervals": report.INTERVAL_COLS,
        "fleet_daily": report.FLEET_COLS, "energy_coverage": report.COVERAGE_COLS,
        "hotspots": report.HOTSPOT_COLS, "sensitivity": report.SENSITIVITY_COLS,
        "data_quality": (*report.DQ_COLS, *report.DQ_OPTIONAL_COLS), "runs": report.RUN_COLS,
        "factor_sets": report.FACTOR_COLS,
        "model_lifecycle": ("row_type", *report.LIFECYCLE_COLS, "per_1000_requests_co2e_market_kg"),
    }
    conn = duckdb.connect(str(db), read_only=True)
    try:
        db_ = report._Db(conn)
        for name, cols in expected.items():
            assert tuple(db_.query(name)[0]) == tuple(cols), name
    finally:
        conn.close()
