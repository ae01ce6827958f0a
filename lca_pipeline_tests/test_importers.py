"""Importers on the real exports in ../shared/data (skipped in a user's clone, required in CI).

Every real file of an importer kind is imported once per session; each test checks the row
accounting (rows_in == rows_out + rows_folded), that every output CSV reads back (as staging
reads it) with the row counts the importer reported, and the provenance columns. The exact
numbers per file are pinned so that a change in what is flagged or folded is noticed.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lca_pipeline.importers import IMPORTERS, KINDS, detect_kind_folders, import_source

SONAR_SACCT_FIELDS = (
    "JobID|JobIDRaw|User|Account|State|Start|End|AveCPU|AveDiskRead|AveDiskWrite|AveRSS|AveVMSize|"
    "ElapsedRaw|ExitCode|Layout|MaxRSS|MaxVMSize|MinCPU|ReqCPUS|ReqMem|ReqNodes|Reservation|Submit|"
    "Suspended|SystemCPU|TimelimitRaw|UserCPU|NodeList|Partition|AllocTRES|Priority|JobName"
)

# (folder under shared/data, file) -> (kind, options)
SOURCES: dict[tuple[str, str], tuple[str, dict | None]] = {
    ("real/gpu_telemetry", "training_profile__power-trace_2025-07-26-23-32-09.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "training_profile__power-trace_2gpu_2025-12-05-02-37-06.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "training_profile__power-trace_2gpu_with_burn_2025-12-03-22-56-32.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "energy-inference_mixtral-8x7b__nvidia-smi.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "energy-inference_llama2-13b__nvidia-smi.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "gpu_glasses__nvidia_smi.csv"): ("nvidia-smi", None),
    ("real/gpu_telemetry", "sonar__nvidia-smi-output.txt"): ("nvidia-smi-q", None),
    ("real/gpu_telemetry", "k8s-ai-conformance_kops__output.md"): ("dcgm", None),
    ("real/gpu_telemetry", "k8s-ai-conformance_upcloud__accelerator-metrics.md"): ("dcgm", None),
    ("real/gpu_telemetry", "k8s-ai-conformance_rafay__accelator_metrics.md"): ("dcgm", None),
    ("real/scheduler", "kabre__sacct.csv"): ("sacct", None),
    ("real/scheduler", "Hyak__sacct.txt"): ("sacct", None),
    ("real/scheduler", "sonar__sacct_output.txt"): ("sacct", {"sacct": {"fields": SONAR_SACCT_FIELDS}}),
    ("real/hardware_pcf", "environmental-footprint-data__boavizta-data-us.csv"): ("boavizta-pcf", None),
    ("real/hardware_pcf", "environmental-footprint-data__boavizta-data-fr.csv"): ("boavizta-pcf", None),
}
CODECARBON = (
    "AIRA__emissions.csv", "Differential_Nas_energy_awareness__emissions.csv", "Green-LLM__emissions.csv",
    "LMPowerConsuption__emissions.csv", "LightSpec__emissions.csv", "TAED2_CrystalGazers__emissions.csv",
    "Unstructured-pruning-Llama__emissions.csv", "cubes-and-clouds__emissions.csv",
    "green-ml-bench__emissions.csv", "pypx-repack-codecarbon-datalad__emissions.csv",
)
for _name in CODECARBON:
    SOURCES[("real/codecarbon", _name)] = ("codecarbon", None)
GRID_ZONES = (
    "AU-NSW", "AU-VIC", "BR-SP", "CA-ON", "CL-SIC", "DE-LU", "GB", "IN-WE", "JP-TK", "KR", "SG",
    "US-CAL-CISO", "US-MIDA-PJM", "US-NY-NYIS", "US-TEX-ERCO", "ZA",
)
for _zone in GRID_ZONES:
    for _year in (2023, 2024):
        SOURCES[("grid/electricitymaps", f"{_zone}_{_year}_hourly.csv")] = ("electricitymaps", None)

# files in those folders that are not inputs of any importer (kept so a new file is noticed)
NOT_IMPORTER_INPUTS = {
    "real/gpu_telemetry": {
        "training_profile__run_titanx_2gpu.sh",  # provenance of the TITAN X traces
        "energy-inference_mixtral-8x7b__job_info.yaml",  # job metadata
        "leaderboard__Qwen__Qwen3-235B-A22B-Instruct-2507__lm-arena-chat.json",  # aggregated results
        "leaderboard__Qwen__Qwen3-8B__lm-arena-chat.json",
        "mlenergy-leaderboard__index.json",
    },
    "real/scheduler": {
        "clusterdata__openb_pod_list_default.csv",  # Alibaba traces: not sacct
        "clusterdata__openb_node_list_gpu_node.csv",
        "clusterdata__node_info_df.csv",
    },
    "real/hardware_pcf": {
        "CarbonSet__CarbonSet.csv", "CarbonSet__NVIDIA-Datacenter-GPU.csv", "boaviztapi__aws.csv",
        "boaviztapi__cpu.csv", "boaviztapi__electrical_mix.csv", "boaviztapi__gpu.csv", "boaviztapi__gpu_specs.csv",
        "boaviztapi__ram.csv", "boaviztapi__regions.csv", "boaviztapi__server.csv",
        "boaviztapi__ssd_manufacture.csv", "ccf-coefficients__SPECpower-2023-05-23.csv",
        "ccf-coefficients__aws-instances.csv", "ccf-coefficients__coefficients-aws-embodied.csv",
        "ccf-coefficients__coefficients-aws-use.csv", "ccf-coefficients__coefficients-azure-embodied.csv",
        "ccf-coefficients__coefficients-gcp-embodied.csv",
    },
    "real/codecarbon": set(),
    "grid/electricitymaps": set(),
}

# file -> (rows_in, rows_out, rows_flagged, rows_folded)
EXPECTED = {
    "training_profile__power-trace_2025-07-26-23-32-09.csv": (45632, 45632, 0, 0),
    "training_profile__power-trace_2gpu_2025-12-05-02-37-06.csv": (8186, 8186, 0, 0),
    "training_profile__power-trace_2gpu_with_burn_2025-12-03-22-56-32.csv": (12422, 12422, 0, 0),
    "energy-inference_mixtral-8x7b__nvidia-smi.csv": (18800, 18800, 1, 0),  # truncated last line
    "energy-inference_llama2-13b__nvidia-smi.csv": (2711, 2711, 1, 0),  # truncated last line
    "gpu_glasses__nvidia_smi.csv": (43, 43, 43, 0),  # header does not match the values
    "sonar__nvidia-smi-output.txt": (4, 4, 0, 0),
    "k8s-ai-conformance_kops__output.md": (46, 1, 1, 45),  # no timestamp in the scrape
    "k8s-ai-conformance_upcloud__accelerator-metrics.md": (23, 1, 1, 22),
    "k8s-ai-conformance_rafay__accelator_metrics.md": (17, 1, 1, 16),
    "AIRA__emissions.csv": (37, 37, 0, 0),
    "Differential_Nas_energy_awareness__emissions.csv": (575, 575, 2, 0),  # gpu_power 17,644 W and 3,817 W
    "Green-LLM__emissions.csv": (1, 1, 0, 0),
    "LMPowerConsuption__emissions.csv": (936, 936, 936, 0),  # cpu_power 960 W on 16 threads
    "LightSpec__emissions.csv": (7, 7, 0, 0),
    "TAED2_CrystalGazers__emissions.csv": (2, 2, 0, 0),
    "Unstructured-pruning-Llama__emissions.csv": (103, 103, 0, 0),
    "cubes-and-clouds__emissions.csv": (8, 8, 0, 0),
    "green-ml-bench__emissions.csv": (502, 502, 0, 0),
    "pypx-repack-codecarbon-datalad__emissions.csv": (2, 2, 0, 0),
    "kabre__sacct.csv": (30376, 30376, 30376, 0),  # no JobID/Start/End in the export
    "Hyak__sacct.txt": (2292, 753, 753, 1539),  # no Start/End; steps folded
    "sonar__sacct_output.txt": (301, 122, 67, 179),
    "environmental-footprint-data__boavizta-data-us.csv": (1226, 1226, 1, 0),  # manufacturing ratio 7.76
    "environmental-footprint-data__boavizta-data-fr.csv": (1226, 1226, 1, 0),
}

PARAMS = [pytest.param(folder, name, id=name) for folder, name in SOURCES]

@pytest.fixture(scope="session")
def imported(shared_data: Path, tmp_path_factory):
    """Import a real file once per session: (folder, name) -> (path, data_dir, ImportResult)."""
    cache: dict = {}
    root = tmp_path_factory.mktemp("imported")

    def get(folder: str, name: str):
        if (folder, name) not in cache:
            kind, options = SOURCES[(folder, name)]
            path = shared_data / folder / name
            data_dir = root / f"{len(cache)}"
            cache[(folder, name)] = (path, data_dir, import_source(kind, path, data_dir, options))
        return cache[(folder, name)]

    return get

def _t(path: Path) -> str:
    """The output CSV as a table expression, read the way staging reads an input CSV."""
    return f"read_csv('{path}', all_varchar = true, header = true)"


def _q(sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _one(sql: str) -> tuple:
    rows = _q(sql)
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("folder,name", PARAMS)
def test_real_file_accounting(imported, folder: str, name: str) -> None:
    path, data_dir, result = imported(folder, name)
    kind = SOURCES[(folder, name)][0]
    assert result.kind == kind
    assert len(result.files) == 1
    f = result.files[0]
    assert f.source == path
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert f.rows_in == f.rows_out + f.rows_folded
    assert 0 <= f.rows_flagged <= f.rows_out
    assert f.rows_in > 0
    if name in EXPECTED:
        assert (f.rows_in, f.rows_out, f.rows_flagged, f.rows_folded) == EXPECTED[name]

    primary = IMPORTERS[kind].primary
    out = f.outputs[primary]
    assert out == data_dir / primary / f"{kind}__{path.stem}.csv"
    per_row = 2 if kind == "electricitymaps" else 1  # direct + lifecycle per hour
    assert f.rows_written[primary] == f.rows_out * per_row
    n_lines = path.read_bytes().count(b"\n") + 1
    for input_name, csv_path in f.outputs.items():
        with open(csv_path, encoding="utf-8") as fh:
            assert tuple(fh.readline().rstrip("\n").split(",")) == IMPORTERS[kind].columns[input_name]
        n, n_err, bad_origin, lo, hi, lines, err_lines = _one(
            f"""SELECT count(*), count(*) FILTER (WHERE coalesce(import_error, '') <> ''),
                       count(*) FILTER (WHERE origin_file <> '{path}'),
                       min(origin_line::BIGINT), max(origin_line::BIGINT), count(DISTINCT origin_line),
                       count(DISTINCT origin_line) FILTER (WHERE coalesce(import_error, '') <> '')
                FROM {_t(csv_path)}"""
        )
        assert n == f.rows_written[input_name], input_name
        assert bad_origin == 0
        assert 1 <= lo <= hi <= n_lines
        if input_name == primary:
            assert lines == f.rows_out  # one original row per origin_line
            assert err_lines == f.rows_flagged
            if per_row == 1:
                assert n_err == f.rows_flagged


def test_every_shared_file_is_covered(shared_data: Path) -> None:
    """A new real file must be given a kind above or be listed as not an importer input."""
    for folder, skip in NOT_IMPORTER_INPUTS.items():
        present = {p.name for p in (shared_data / folder).iterdir() if p.is_file()}
        covered = {name for fo, name in SOURCES if fo == folder} | skip
        assert present == covered, folder

def _raw_line(path: Path, lineno: int) -> str:
    """Line `lineno` (1-based) of a real file, NULs and CR removed: expectations are derived from
    the original at run time, so no piece of it is copied into this repository."""
    return path.read_bytes().split(b"\n")[lineno - 1].replace(b"\x00", b"").decode("utf-8").rstrip("\r")


def _value(text: str) -> float:
    return float(text.strip().split(" ")[0])


def _iso_z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if dt.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def test_h100_trace_8_gpus(imported) -> None:
    """The 100 ms 8-GPU trace has no index column: 8 consecutive rows per sample are GPUs 0..7."""
    path, _, result = imported("real/gpu_telemetry", "training_profile__power-trace_2025-07-26-23-32-09.csv")
    t = _t(result.files[0].outputs["gpu_samples"])
    assert _one(f"SELECT count(*), count(DISTINCT (gpu, ts)) FROM {t}") == (45632, 45632)
    assert dict(_q(f"SELECT gpu::INTEGER, count(*) FROM {t} GROUP BY ALL")) == {g: 5704 for g in range(8)}
    got = _q(
        f"SELECT gpu::INTEGER, ts, power_w::DOUBLE, util_pct::DOUBLE, mem_used_mib::DOUBLE FROM {t} "
        "WHERE origin_line::INTEGER BETWEEN 2 AND 9 ORDER BY origin_line::INTEGER"
    )
    want = []
    for k, line in enumerate(_raw_line(path, n) for n in range(2, 10)):
        ts, power, util, mem = line.split(",")
        stamp = datetime.strptime(ts, "%Y/%m/%d %H:%M:%S.%f")
        want.append((k, _iso_z(stamp), _value(power), _value(util), _value(mem)))
    assert got == want
    # GPU 0 holds the driver context at idle, so its memory stands out: the order is right
    assert got[0][4] > max(r[4] for r in got[1:])


def test_titanx_partial_units(imported) -> None:
    """power.draw has no ' W' while the other columns keep their units: all parsed."""
    path, _, result = imported("real/gpu_telemetry", "training_profile__power-trace_2gpu_2025-12-05-02-37-06.csv")
    t = _t(result.files[0].outputs["gpu_samples"])
    _, power, util, mem = _raw_line(path, 2).split(",")
    assert not power.strip().endswith("W") and util.strip().endswith("%") and mem.strip().endswith("MiB")
    assert _one(f"SELECT power_w::DOUBLE, util_pct::DOUBLE, mem_used_mib::DOUBLE, import_error FROM {t} WHERE origin_line = '2'") == (
        _value(power), _value(util), _value(mem), None,
    )
    assert dict(_q(f"SELECT gpu::INTEGER, count(*) FROM {t} GROUP BY ALL")) == {0: 4093, 1: 4093}


def test_truncated_last_line(imported) -> None:
    path, _, result = imported("real/gpu_telemetry", "energy-inference_mixtral-8x7b__nvidia-smi.csv")
    t = _t(result.files[0].outputs["gpu_samples"])
    last = path.read_bytes().count(b"\n") + 1  # no final newline: the cut line is one more
    assert _q(f"SELECT origin_line::INTEGER, import_error FROM {t} WHERE import_error IS NOT NULL") == [
        (last, "truncated last line"),
    ]
    assert _q(f"SELECT DISTINCT gpu::INTEGER FROM {t} ORDER BY 1") == [(0,), (1,), (2,)]


def test_misaligned_header_rejected(imported) -> None:
    _, _, result = imported("real/gpu_telemetry", "gpu_glasses__nvidia_smi.csv")
    errors = _q(f"SELECT DISTINCT import_error FROM {_t(result.files[0].outputs['gpu_samples'])}")
    assert len(errors) == 1
    assert errors[0][0].startswith("header does not match the values")


def _dcgm_sample(path: Path, metric: str) -> tuple[dict[str, str], float]:
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(DCGM_\w+)\{(.*)\} (\S+)$", line.strip())
        if m and m.group(1) == metric:
            return dict(re.findall(r'(\w+)="([^"]*)"', m.group(2))), float(m.group(3))
    raise AssertionError(f"{metric} not in {path}")


def test_dcgm_needs_a_time(imported, shared_data: Path, tmp_path: Path) -> None:
    path, _, result = imported("real/gpu_telemetry", "k8s-ai-conformance_kops__output.md")
    (err,) = _one(f"SELECT import_error FROM {_t(result.files[0].outputs['gpu_samples'])}")
    assert err.startswith("no timestamp in scrape; pass --option ts=")
    again = import_source("dcgm", path, tmp_path, {"ts": "2026-03-20T12:00:00Z"}).files[0]
    assert again.rows_flagged == 0
    labels, power = _dcgm_sample(path, "DCGM_FI_DEV_POWER_USAGE")
    _, energy = _dcgm_sample(path, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
    assert _one(
        f"SELECT ts, host, gpu, power_w::DOUBLE, energy_mj::DOUBLE, gpu_uuid, gpu_model FROM {_t(again.outputs['gpu_samples'])}"
    ) == ("2026-03-20T12:00:00Z", labels["Hostname"], labels["gpu"], power, energy, labels["UUID"], labels["modelName"])


def test_sacct_sonar_jobs_and_allocations(imported, shared_data: Path, tmp_path: Path) -> None:
    path, _, result = imported("real/scheduler", "sonar__sacct_output.txt")
    f = result.files[0]
    jobs, allocs = _t(f.outputs["jobs"]), _t(f.outputs["allocations"])
    assert "gpu indices assumed 0..k-1 on each node (sacct gives GPU counts per node, not indices)" in f.notes
    names = SONAR_SACCT_FIELDS.split("|")
    typed_and_untyped = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = dict(zip(names, line.split("|")))
        tres = rec["AllocTRES"]
        m_untyped = re.search(r"(?:^|,)gres/gpu=(\d+)", tres)
        if "." in rec["JobID"] or not m_untyped or "gres/gpu:" not in tres or "[" in rec["NodeList"]:
            continue
        # typed + untyped gres (gres/gpu:<type>=k,gres/gpu=k) is k GPUs, not 2k, on the one node
        typed_and_untyped += 1
        k = int(m_untyped.group(1))
        assert _q(f"SELECT host, gpu::INTEGER FROM {allocs} WHERE job_id = '{rec['JobID']}' ORDER BY 2") == [
            (rec["NodeList"], g) for g in range(k)
        ]
    assert typed_and_untyped > 10
    assert _one(f"SELECT count(*) FROM {allocs} a ANTI JOIN {jobs} j USING (job_id)") == (0,)
    assert _one(
        f"SELECT count(*), count(*) FILTER (WHERE state = 'CANCELLED') FROM {jobs} WHERE state_raw LIKE 'CANCELLED by %'"
    ) == (5, 5)
    n_running, n_end = _one(f"SELECT count(*), count(\"end\") FROM {jobs} WHERE state = 'RUNNING'")
    assert n_running > 0 and n_end == 0  # End=Unknown and no sacct.now: flagged, end empty
    # with sacct.now the running jobs end at the export time and are no longer flagged
    opts = {"sacct": {"fields": SONAR_SACCT_FIELDS, "now": "2025-09-30T00:00:00"}}
    again = import_source("sacct", path, tmp_path, opts).files[0]
    assert _one(
        f"SELECT count(*) FILTER (WHERE \"end\" = '2025-09-30T00:00:00Z' AND import_error IS NULL) "
        f"FROM {_t(again.outputs['jobs'])} WHERE state = 'RUNNING'"
    ) == (n_running,)
    assert again.rows_flagged == f.rows_flagged - n_running


def test_sacct_hyak_fixed_width(imported) -> None:
    path, _, result = imported("real/scheduler", "Hyak__sacct.txt")
    f = result.files[0]
    assert "layout: fixed-width" in f.notes
    jobs = _t(f.outputs["jobs"])
    # job ids cut by the column width ('<id>_10+') under their job are steps, not new jobs
    assert _one(f"SELECT count(*) FROM {jobs} WHERE job_id LIKE '%+' OR job_id LIKE '%.%'") == (0,)
    width = len(_raw_line(path, 2).split(" ")[0])
    cut_ids = [ln[:width] for ln in path.read_text().splitlines()[2:] if ln[:width].endswith("+") and "." not in ln[:width]]
    assert cut_ids and f.rows_folded > len(cut_ids)
    n_cut = _one(f"SELECT count(*), count(*) FILTER (WHERE state = 'CANCELLED') FROM {jobs} WHERE state_raw = 'CANCELLED+'")
    assert n_cut[0] > 0 and n_cut[0] == n_cut[1]


def test_sacct_kabre_energy(imported) -> None:
    path, _, result = imported("real/scheduler", "kabre__sacct.csv")
    jobs = _t(result.files[0].outputs["jobs"])
    header = _raw_line(path, 1).split("|")
    for lineno in range(2, 40):
        joules = _raw_line(path, lineno).split("|")[header.index("ConsumedEnergyRaw")]
        if joules not in ("", "0"):
            break
    job_id, kwh = _one(f"SELECT job_id, energy_kwh::DOUBLE FROM {jobs} WHERE origin_line = '{lineno}'")
    assert job_id == f"kabre__sacct:{lineno}"
    assert kwh == pytest.approx(float(joules) / 3.6e6)
    assert _one(
        f"SELECT count(*), count(*) FILTER (WHERE state = 'CANCELLED') FROM {jobs} WHERE state_raw LIKE 'CANCELLED by %'"
    ) == (2111, 2111)


def test_codecarbon_versions_and_nuls(imported) -> None:
    _, _, aira = imported("real/codecarbon", "AIRA__emissions.csv")
    assert "versions: 2.8.3 (14 rows), 3.0.7 (23 rows)" in aira.files[0].notes
    path, _, lm = imported("real/codecarbon", "LMPowerConsuption__emissions.csv")
    f = lm.files[0]
    assert "206476 NUL bytes removed" in f.notes
    jobs = _t(f.outputs["jobs"])
    # line 565 starts with the NULs and still holds a valid row
    assert path.read_bytes().split(b"\n")[564].startswith(b"\x00" * 1000)
    run_id = _raw_line(path, 565).split(",")[2]
    assert _one(f"SELECT job_id FROM {jobs} WHERE origin_line = '565'") == (run_id,)
    assert _one(f"SELECT count(*) FROM {jobs} WHERE import_error LIKE '%implausible cpu_power 960 W%'") == (934,)
    path, _, legacy = imported("real/codecarbon", "Unstructured-pruning-Llama__emissions.csv")
    ts, exp_id, project, duration = _raw_line(path, 2).split(",")[:4]
    end = datetime.fromisoformat(ts)
    row = _one(f"SELECT job_id, model, stage, state, start, \"end\" FROM {_t(legacy.files[0].outputs['jobs'])} WHERE origin_line = '2'")
    assert row == (
        f"{exp_id}@{ts}", project, "other", "COMPLETED", _iso_z(end - timedelta(seconds=float(duration))), _iso_z(end),
    )
    _, _, cubes = imported("real/codecarbon", "cubes-and-clouds__emissions.csv")
    assert _one(f"SELECT count(*), count(DISTINCT job_id) FROM {_t(cubes.files[0].outputs['jobs'])}") == (8, 8)


def test_electricitymaps_de_lu(imported) -> None:
    path, _, result = imported("grid/electricitymaps", "DE-LU_2024_hourly.csv")
    f = result.files[0]
    t = _t(f.outputs["grid_intensity"])
    assert _q(f"SELECT DISTINCT zone FROM {t}") == [("DE",)]
    assert any("file name says zone DE-LU" in n for n in f.notes)
    ts, _, _, _, direct, lca = _raw_line(path, 2).split(",")[:6]
    assert _q(f"SELECT ts, basis, gco2e_per_kwh::DOUBLE FROM {t} WHERE origin_line = '2' ORDER BY basis") == [
        (ts.replace(" ", "T") + "Z", "direct", float(direct)), (ts.replace(" ", "T") + "Z", "lifecycle", float(lca)),
    ]
    assert _one(f"SELECT count(DISTINCT origin_line) FROM {t} WHERE estimated = 'true'") == (64,)


def test_boavizta_us_and_fr_agree(imported) -> None:
    path, _, us = imported("real/hardware_pcf", "environmental-footprint-data__boavizta-data-us.csv")
    _, _, fr = imported("real/hardware_pcf", "environmental-footprint-data__boavizta-data-fr.csv")
    cols = "origin_line, manufacturer, gwp_total_kgco2e, gwp_manufacturing_ratio, lifetime_years, yearly_tec_kwh"
    a = _q(f"SELECT {cols} FROM {_t(us.files[0].outputs['pcf_factors'])} ORDER BY origin_line::INTEGER")
    b = _q(f"SELECT {cols} FROM {_t(fr.files[0].outputs['pcf_factors'])} ORDER BY origin_line::INTEGER")
    assert a == b and len(a) == 1226
    with open(path, newline="", encoding="utf-8") as fh:
        server = next(r for r in csv.DictReader(fh) if r["subcategory"] == "Server" and r["gwp_manufacturing_ratio"])
    key = f"{server['manufacturer'].lower()}|{server['name'].lower()}"
    assert _q(
        f"SELECT gwp_total_kgco2e::DOUBLE, gwp_manufacturing_kgco2e::DOUBLE "
        f"FROM {_t(us.files[0].outputs['pcf_factors'])} WHERE match_key = '{key}'"
    )[0] == (
        float(server["gwp_total"]),
        pytest.approx(float(server["gwp_total"]) * float(server["gwp_manufacturing_ratio"])),
    )


def test_detect_kind_folders(tmp_path: Path) -> None:
    for name in ("sacct", "dcgm", "gpu_samples", "not-a-kind"):
        (tmp_path / name).mkdir()
    (tmp_path / "codecarbon").write_text("a file, not a folder")
    assert detect_kind_folders(tmp_path) == [("dcgm", tmp_path / "dcgm"), ("sacct", tmp_path / "sacct")]
    assert set(KINDS) == {"nvidia-smi", "nvidia-smi-q", "dcgm", "codecarbon", "sacct", "electricitymaps", "boavizta-pcf",
                          "vllm"}
