"""The warehouse resource's connections."""

from __future__ import annotations

from lca_pipeline.resources import scratch


def test_a_scratch_connection_spills_into_a_folder_that_did_not_exist(tmp_path):
    spill = tmp_path / "parts" / "table" / ".spill" / "day"
    conn = scratch(spill)
    conn.execute("SET memory_limit = '64MB'")
    conn.execute("SET threads = 1")
    conn.execute("SET preserve_insertion_order = false")
    rows = conn.execute(
        "SELECT count(*) FROM (SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(3000000) t(i) ORDER BY h)").fetchall()
    assert rows == [(3_000_000,)]
    assert spill.is_dir()
