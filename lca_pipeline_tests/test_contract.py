"""Shared names and helpers are defined once, in lca_pipeline/contract.py, and imported everywhere else."""

from __future__ import annotations

import re
from pathlib import Path

from lca_pipeline import contract

PACKAGE = Path(contract.__file__).resolve().parent


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p.name != "contract.py"}


def _spelled_out(values: tuple[str, ...], n: int) -> re.Pattern[str]:
    """The first n values written as consecutive string literals, as a copy of the tuple would be."""
    return re.compile(r",\s*".join(re.escape(f'"{v}"') for v in values[:n]))


def test_no_copy_of_the_shared_constants_or_helpers():
    patterns = {
        "PROVENANCE": _spelled_out(contract.PROVENANCE, 3),
        "STAGES": _spelled_out(contract.STAGES, 4),
        "JOB_STATES": _spelled_out(contract.JOB_STATES, 4),
        "sha256_file": re.compile(r"def\s+_?sha256_file\b|hashlib\.sha256\(\)\s*\n.*\n.*iter\(lambda"),
        "plain": re.compile(r"def\s+_?plain\b"),
        "a redefinition": re.compile(r"^(PROVENANCE|STAGES|JOB_STATES)\s*[:=]", re.M),
    }
    copies = [f"{path.relative_to(PACKAGE.parent)}: {name}"
              for path, text in _sources().items() for name, rx in patterns.items() if rx.search(text)]
    assert not copies, f"copies of lca_pipeline/contract.py names; import them from there instead: {copies}"


def test_plain_makes_duckdb_values_json_ready():
    import datetime as dt
    from decimal import Decimal

    assert contract.plain([dt.date(2026, 1, 2), Decimal("1.5"), 3]) == ["2026-01-02", 1.5, 3]


def test_sha256_file(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"abc")
    assert contract.sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
