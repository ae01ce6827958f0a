"""Output checksums: order-independent, and sensitive to every value, row and column type."""

from __future__ import annotations

import duckdb

from lca_pipeline.manifest import output_checksums


def _checksum(statements: list[str]) -> dict:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA marts")
    for s in statements:
        conn.execute(s)
    return output_checksums(conn)["marts.t"]


BASE = "CREATE TABLE marts.t AS SELECT k, CAST(x AS DOUBLE) AS x FROM (VALUES ('a', 1.5), ('b', 2.25), ('b', 2.25)) v(k, x)"


def test_checksum_ignores_row_order_and_sees_every_change():
    base = _checksum([BASE])
    assert base["rows"] == 3 and len(base["checksum"]) == 64
    # Same rows in another order: same checksum.
    assert _checksum([BASE.replace("('a', 1.5), ('b', 2.25), ('b', 2.25)", "('b', 2.25), ('a', 1.5), ('b', 2.25)")]) == base
    # One value off in the last bit of a double, a lost duplicate row, a renamed or retyped column: all differ.
    changed = [
        [BASE, "UPDATE marts.t SET x = nextafter(x, 10.0) WHERE k = 'a'"],
        [BASE, "DELETE FROM marts.t WHERE rowid = 2"],
        [BASE.replace("AS x FROM", "AS y FROM")],
        [BASE, "ALTER TABLE marts.t ALTER x TYPE DECIMAL(10, 2)"],
    ]
    for statements in changed:
        assert _checksum(statements)["checksum"] != base["checksum"], statements

