"""`lca explain` polish (issue 14): settings of the run, nearest keys, one-line date errors, no empty selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from lca_pipeline.cli import main
from lca_pipeline.explain import ExplainError, explain, render_text
from lca_pipeline.sample import generate_sample
from lca_pipeline_tests.builders import query, run

# Each test runs the pipeline end to end (seconds each): not in the everyday `-m "not slow"` subset.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def leap(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("explain_method")
    data = root / "sample"
    generate_sample(data, days=1, interval_s=300)
    toml = data / "lca.toml"
    toml.write_text(toml.read_text() + "\n[embodied]\nhours_per_year = 8784\n")
    db, _ = run(data, root)
    return db


def test_lifetimes_use_the_hours_per_year_of_the_run(leap):
    model, stage, date = query(leap, "SELECT model, stage, CAST(date AS VARCHAR) FROM marts.stage_impacts "
                                     "WHERE model IS NOT NULL AND embodied_co2e_kg > 0 LIMIT 1")[0]
    result = explain(leap, model=model, stage=stage, date=date, criterion="embodied_co2e_kg")
    assert result["settings"]["hours_per_year"] == 8784.0
    lifetimes = dict(query(leap, "SELECT asset_id, lifetime_years FROM intermediate.asset_embodied "
                                 "WHERE NOT retired_early"))
    rows = [h for h in result["hardware"] if h["asset_id"] in lifetimes]
    assert rows
    for h in rows:  # life hours / 8784 gives back the record's lifetime; / 8760 would not
        assert h["life_years"] == pytest.approx(lifetimes[h["asset_id"]], rel=1e-12)


def test_no_selection_says_what_it_explains(leap):
    text = render_text(explain(leap))
    assert "for :" not in text.splitlines()[0]
    assert "unallocated capacity" in text.splitlines()[0]


def test_unknown_key_lists_the_nearest_valid_keys(leap):
    with pytest.raises(ExplainError, match=r"model 'helios-7c' not found; nearest: helios-7b"):
        explain(leap, model="helios-7c", stage="training")
    with pytest.raises(ExplainError, match=r"job 'no-such-job' not found; nearest: "):
        explain(leap, job="no-such-job")


def test_bad_date_is_one_line_not_a_conversion_error(leap, capsys):
    with pytest.raises(ExplainError) as err:
        explain(leap, model="helios-7b", date="2024-13-45")
    assert "is not a date" in str(err.value) and "\n" not in str(err.value)
    assert main(["explain", "--db", str(leap), "--model", "helios-7b", "--date", "yesterday"]) != 0
    out = capsys.readouterr()
    assert "Conversion Error" not in out.err + out.out and "is not a date" in out.err + out.out
    assert len((out.err + out.out).strip().splitlines()) == 1


def test_old_criterion_names_still_work(leap):
    model, stage, date = query(leap, "SELECT model, stage, CAST(date AS VARCHAR) FROM marts.stage_impacts "
                                     "WHERE model IS NOT NULL LIMIT 1")[0]
    old = explain(leap, model=model, stage=stage, date=date, criterion="co2e_location_kg")
    new = explain(leap, model=model, stage=stage, date=date, criterion="operational_co2e_location_kg")
    assert old["criterion"] == "operational_co2e_location_kg" and old["value"] == new["value"]
