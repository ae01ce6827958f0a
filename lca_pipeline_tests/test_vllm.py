"""vLLM Prometheus importer into inference_usage, and C_FU per 1,000 tokens (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lca_pipeline.importers import import_source
from lca_pipeline_tests.builders import query, run, ts, write

DAY1, DAY2, DAY2_LATER = 1704110400000, 1704196800000, 1704218400000  # 2024-01-01 12:00, 01-02 12:00, 18:00 UTC

METRICS = f"""\
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{{finished_reason="stop",model_name="m"}} 90.0 {DAY1}
vllm:request_success_total{{finished_reason="length",model_name="m"}} 10.0 {DAY1}
vllm:prompt_tokens_total{{model_name="m"}} 5000.0 {DAY1}
vllm:generation_tokens_total{{model_name="m"}} 20000.0 {DAY1}
vllm:num_requests_running{{model_name="m"}} 3.0 {DAY1}
vllm:request_success_total{{finished_reason="stop",model_name="m"}} 250.0 {DAY2}
vllm:request_success_total{{finished_reason="length",model_name="m"}} 50.0 {DAY2}
vllm:prompt_tokens_total{{model_name="m"}} 15000.0 {DAY2}
vllm:generation_tokens_total{{model_name="m"}} 60000.0 {DAY2}
# server restarted: the counters start again from 0
vllm:request_success_total{{finished_reason="stop",model_name="m"}} 20.0 {DAY2_LATER}
vllm:prompt_tokens_total{{model_name="m"}} 1000.0 {DAY2_LATER}
vllm:generation_tokens_total{{model_name="m"}} 4000.0 {DAY2_LATER}
vllm:prompt_tokens_total{{model_name="m"}} 12.0
"""


def _metrics(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.prom"
    path.write_text(METRICS, encoding="utf-8")
    return path


def test_counter_increases_per_day_with_reset_and_row_accounting(tmp_path):
    path = _metrics(tmp_path / "exports")
    result = import_source("vllm", path, tmp_path / "data")
    (f,) = result.files
    # 12 counter lines (HELP/TYPE and the gauge are not data); 2 (model, day) rows + 1 flagged line
    assert (f.rows_in, f.rows_out, f.rows_folded, f.rows_flagged) == (12, 3, 9, 1)
    out = pd.read_csv(f.outputs["inference_usage"], keep_default_na=False)
    rows = out[out["import_error"] == ""][["model", "date", "requests", "tokens_in", "tokens_out"]]
    assert rows.values.tolist() == [
        ["m", "2024-01-01", "100", "5000", "20000"],  # first scrape counts from the process start
        ["m", "2024-01-02", str(200 + 20), str(10000 + 1000), str(40000 + 4000)],  # increase, then a reset
    ]
    assert "no timestamp" in out[out["import_error"] != ""]["import_error"].iloc[0]
    baseline = import_source("vllm", path, tmp_path / "data2", {"baseline": True}).files[0]
    first = pd.read_csv(baseline.outputs["inference_usage"], keep_default_na=False).iloc[0]
    assert (first["requests"], first["tokens_in"]) == ("0", "0")


@pytest.mark.slow
def test_per_1000_tokens_through_the_pipeline(tmp_path):
    data = tmp_path / "data"
    _metrics(data / "vllm")  # an importer-kind folder in the data directory
    write(data, "sites", [{"site": "s1", "zone": "Z1", "pue": 1.0}])
    write(data, "hosts", [{"host": "h1", "site": "s1", "role": "compute", "gpu_count": 8}])
    write(data, "grid_intensity", [{"zone": "Z1", "ts": ts(hours=h), "gco2e_per_kwh": 300.0} for h in range(2)])
    write(data, "jobs", [
        {"job_id": "T", "model": "m", "stage": "training", "state": "COMPLETED", "start": ts(0), "end": ts(60),
         "site": "s1", "energy_kwh": 1000.0},
        {"job_id": "I", "model": "m", "stage": "inference", "state": "COMPLETED", "start": ts(60), "end": ts(120),
         "site": "s1", "energy_kwh": 100.0},
    ])
    db, _ = run(data, tmp_path)
    requests, tokens, per_req, per_tok = query(
        db, "SELECT requests_to_date, tokens_to_date, per_1000_requests_co2e_kg, per_1000_tokens_co2e_kg "
            "FROM marts.model_lifecycle WHERE row_type = 'model'")[0]
    assert (requests, tokens) == (320, 80000)
    # 300 kg up-front over N = 320 requests to date + 30 kg inference over 320 requests, per 1,000
    assert per_req == pytest.approx(30 / 320 * 1000 + 300 / 320 * 1000, rel=1e-12)
    assert per_tok == pytest.approx((300 + 30) / 80000 * 1000, rel=1e-12)
    assert query(db, "SELECT count(*) FROM audit.quarantine WHERE input = 'inference_usage'") == [(1,)]
