"""Importers on small inline exports written here: one test per format variant and quirk."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lca_pipeline.importers import IMPORTERS, ImporterError, import_source
from lca_pipeline.importers.common import effective_options, normalize_options
from lca_pipeline.importers.sacct import expand_nodelist, gpu_count, normalise_state


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / "src" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    p.write_bytes(text)
    return p


def _run(tmp_path: Path, kind: str, name: str, text: str | bytes, options: dict | None = None):
    path = _write(tmp_path, name, text)
    result = import_source(kind, path, tmp_path / "data", options)
    assert len(result.files) == 1
    f = result.files[0]
    assert f.rows_in == f.rows_out + f.rows_folded
    rows = {}
    for input_name, out in f.outputs.items():
        with open(out, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows[input_name] = list(reader)
            assert tuple(reader.fieldnames) == IMPORTERS[kind].columns[input_name]
        assert len(rows[input_name]) == f.rows_written[input_name]
        assert all(r["origin_file"] == str(path) for r in rows[input_name])
    primary = IMPORTERS[kind].primary
    if f.rows_out:
        assert sum(1 for r in rows[primary] if r["import_error"]) >= f.rows_flagged
    return f, rows


def _samples(tmp_path, text, options=None, name="node1.csv"):
    f, rows = _run(tmp_path, "nvidia-smi", name, text, options)
    return f, rows.get("gpu_samples", [])


# ------------------------------------------------------------------------------ nvidia-smi


def test_nvidia_smi_units_index_uuid(tmp_path):
    f, rows = _samples(
        tmp_path,
        "timestamp, index, name, uuid, power.draw [W], utilization.gpu [%], memory.used [MiB]\n"
        "2024/04/04 11:06:09.890, 0, NVIDIA H100 80GB HBM3, GPU-aaa, 101.25 W, 0 %, 250 MiB\n"
        "2024/04/04 11:06:09.890, 1, NVIDIA H100 80GB HBM3, GPU-bbb, 70.50 W, 5 %, 17 MiB\n",
    )
    assert f.outputs["gpu_samples"].name == "nvidia-smi__node1.csv"
    assert [(r["gpu"], r["power_w"], r["util_pct"], r["mem_used_mib"], r["gpu_uuid"]) for r in rows] == [
        ("0", "101.25", "0.0", "250.0", "GPU-aaa"), ("1", "70.5", "5.0", "17.0", "GPU-bbb"),
    ]
    assert rows[0]["ts"] == "2024-04-04T11:06:09.890000Z"
    assert rows[0]["host"] == "node1"
    assert rows[0]["gpu_model"] == "NVIDIA H100 80GB HBM3"
    assert [r["origin_line"] for r in rows] == ["2", "3"]
    assert f.rows_flagged == 0


def test_nvidia_smi_nounits_and_partial_units(tmp_path):
    _, nounits = _samples(
        tmp_path,
        "timestamp, index, power.draw [W], utilization.gpu [%]\n2024/04/04 11:06:09.890, 0, 101.25, 7\n",
        name="a.csv",
    )
    assert (nounits[0]["power_w"], nounits[0]["util_pct"]) == ("101.25", "7.0")
    _, partial = _samples(
        tmp_path,
        "timestamp, index, power.draw [W], utilization.gpu [%], memory.used [MiB]\n"
        "2024/04/04 11:06:09.890, 0, 21.5, 4 %, 9 MiB\n",
        name="b.csv",
    )
    assert (partial[0]["power_w"], partial[0]["util_pct"], partial[0]["mem_used_mib"]) == ("21.5", "4.0", "9.0")


def test_nvidia_smi_bad_values_are_flagged_not_dropped(tmp_path):
    f, rows = _samples(
        tmp_path,
        "timestamp, index, power.draw [W], utilization.gpu [%]\n"
        "2024/04/04 11:06:09.000, 0, 101.25 W, 0 %\n"
        "2024/04/04 11:06:09.000, 1, [N/A], [N/A]\n"
        "2024/04/04 11:06:09.000, 2, 69 MiB, 0 %\n"
        "2024/04/04 11:06:09.000, 3, 70 W, 0 %\n"
        "yesterday, 4, 70 W, 0 %\n",
    )
    errors = [r["import_error"] for r in rows]
    assert errors == [
        "", "power.draw is [N/A]", "power.draw '69 MiB' is not a number in W", "", "timestamp 'yesterday' not understood",
    ]
    assert rows[1]["util_pct"] == ""  # [N/A] utilisation is just unknown
    assert f.rows_flagged == 3


def test_nvidia_smi_offset_and_timezone(tmp_path):
    _, iso = _samples(
        tmp_path, "timestamp, index, power.draw [W]\n2025-03-02T07:15:00+08:00, 0, 88.5\n", name="iso.csv"
    )
    assert iso[0]["ts"] == "2025-03-01T23:15:00Z"
    _, local = _samples(
        tmp_path,
        "timestamp, index, power.draw [W]\n2024/07/01 10:00:00.500, 0, 88.5\n",
        {"timezone": "Europe/Oslo"},
        name="local.csv",
    )
    assert local[0]["ts"] == "2024-07-01T08:00:00.500000Z"


def test_nvidia_smi_truncated_last_line(tmp_path):
    f, rows = _samples(
        tmp_path,
        "timestamp, power.draw [W], utilization.gpu [%]\n"
        "2024/05/06 07:08:09.100, 250.50 W, 90 %\n"
        "2024/05/06 07:08:09.200, 251.75 W, 91 %\n"
        "2024/05/06 07:08:09.",
    )
    assert [r["import_error"] for r in rows] == ["", "", "truncated last line"]
    assert f.rows_in == 3 and f.rows_flagged == 1
    # a complete last row without a final newline is fine
    f2, rows2 = _samples(
        tmp_path, "timestamp, power.draw [W]\n2024/05/06 07:08:09.100, 250.50 W", name="complete.csv"
    )
    assert f2.rows_flagged == 0 and rows2[0]["power_w"] == "250.5"


def test_nvidia_smi_header_mismatch_flags_every_row(tmp_path):
    f, rows = _samples(
        tmp_path,
        "timestamp, index, power.draw [W]\n"
        "2024/05/06 07:08:09.100, 0, 250.50 W, 90 %, 5 MiB\n"
        "2024/05/06 07:08:09.100, 1, 251.75 W, 91 %, 5 MiB\n",
    )
    assert f.rows_flagged == 2
    assert all(r["import_error"].startswith("header does not match the values: the header has 3 fields") for r in rows)


def test_nvidia_smi_implicit_order_same_timestamp(tmp_path):
    lines = ["timestamp, power.draw [W]"]
    for s in range(5):
        for g in range(4):
            lines.append(f"2024/04/04 11:06:{10 + s:02d}.000, {100 + g}.0 W")
    f, rows = _samples(tmp_path, "\n".join(lines) + "\n")
    assert [int(r["gpu"]) for r in rows] == [0, 1, 2, 3] * 5
    assert all(float(r["power_w"]) == 100 + int(r["gpu"]) for r in rows)
    assert any("4 GPU(s) per sample inferred" in n for n in f.notes)


def test_nvidia_smi_implicit_order_ms_jitter_and_option(tmp_path):
    lines = ["timestamp, power.draw [W]"]
    t = 0
    for s in range(40):
        for g in range(3):
            lines.append(f"2024/04/04 10:54:{15 + t // 1000:02d}.{t % 1000:03d}, {50 + g}.0 W")
            t += 4
        t += 100
    text = "\n".join(lines) + "\n"
    f, rows = _samples(tmp_path, text, name="jitter.csv")
    assert [int(r["gpu"]) for r in rows] == [0, 1, 2] * 40
    # option gpus overrides the inference (here wrongly: the check then finds the order inconsistent)
    _, forced = _samples(tmp_path, text, {"gpus": 3}, name="forced.csv")
    assert [int(r["gpu"]) for r in forced] == [0, 1, 2] * 40


def test_nvidia_smi_missing_row_is_flagged_not_guessed(tmp_path):
    lines = ["timestamp, power.draw [W]"]
    for s in range(30):
        for g in range(2):
            if s == 10 and g == 1:
                continue  # nvidia-smi lost GPU 1 of sample 10
            lines.append(f"2024/04/04 11:00:{s:02d}.{g * 3:03d}, {60 + g}.0 W")
    f, rows = _samples(tmp_path, "\n".join(lines) + "\n")
    flagged = [r for r in rows if r["import_error"]]
    assert flagged and all("GPU order ambiguous" in r["import_error"] for r in flagged)
    # rows before the gap keep their GPU
    good = [r for r in rows if not r["import_error"]]
    assert all(float(r["power_w"]) == 60 + int(r["gpu"]) for r in good)
    assert f.rows_in == 59 and f.rows_out == 59


def test_nvidia_smi_repeated_header_restarts_order(tmp_path):
    run = "timestamp, power.draw [W]\n" + "".join(
        f"2024/04/04 11:00:{s:02d}.00{g}, {60 + g}.0 W\n" for s in range(6) for g in range(2)
    )
    run2 = "timestamp, power.draw [W]\n" + "".join(
        f"2024/04/04 12:00:{s:02d}.00{g}, {60 + g}.0 W\n" for s in range(6) for g in range(2)
    )
    f, rows = _samples(tmp_path, run + run2)
    assert f.rows_in == 24 and f.rows_flagged == 0
    assert all(float(r["power_w"]) == 60 + int(r["gpu"]) for r in rows)
    assert any("repeated header" in n for n in f.notes)


def test_nvidia_smi_headerless_needs_fields(tmp_path):
    text = "2024/04/04 11:00:00.000, 0, 60.0 W\n2024/04/04 11:00:00.000, 1, 61.0 W\n"
    f, rows = _samples(tmp_path, text, name="noheader.csv")
    assert f.rows_flagged == 2 and "pass --option fields=" in rows[0]["import_error"]
    f2, rows2 = _samples(
        tmp_path, text, {"fields": "timestamp,index,power.draw", "host": "x", "hosts": {"fields": "gpu07"}}, name="fields.csv"
    )
    assert f2.rows_flagged == 0
    assert [(r["host"], r["gpu"], r["power_w"]) for r in rows2] == [("gpu07", "0", "60.0"), ("gpu07", "1", "61.0")]


# ------------------------------------------------------------------------------ nvidia-smi -q

_Q_REPORT = """
==============NVSMI LOG==============

Timestamp                                 : Sat Mar  2 08:30:00 2024
Driver Version                            : 550.54.15

Attached GPUs                             : 2
GPU 00000000:18:00.0
    Product Name                          : NVIDIA H100 80GB HBM3
    GPU UUID                              : GPU-aaa
    Minor Number                          : 0
    FB Memory Usage
        Total                             : 81559 MiB
        Used                              : {mem} MiB
    BAR1 Memory Usage
        Used                              : 1 MiB
    Utilization
        Gpu                               : {util} %
    GPU Power Readings
        Average Power Draw                : 120.00 W
        Instantaneous Power Draw          : {power}
        Current Power Limit               : 700.00 W
    Module Power Readings
        Power Draw                        : N/A

GPU 00000000:2A:00.0
    Product Name                          : NVIDIA H100 80GB HBM3
    GPU UUID                              : GPU-bbb
    Minor Number                          : 1
    FB Memory Usage
        Used                              : 5 MiB
    Utilization
        Gpu                               : 0 %
    GPU Power Readings
        Power Draw                        : 70.10 W
"""


def test_nvidia_smi_q_reports(tmp_path):
    text = _Q_REPORT.format(mem=1000, util=80, power="650.25 W") + _Q_REPORT.format(
        mem=1200, util=90, power="N/A"
    ).replace("08:30:00", "08:30:05")
    f, rows = _run(tmp_path, "nvidia-smi-q", "gpu01.txt", text, {"host": "gpu01"})
    g = rows["gpu_samples"]
    assert f.rows_in == 4
    assert [(r["ts"], r["gpu"], r["power_w"], r["util_pct"], r["mem_used_mib"], r["gpu_uuid"]) for r in g] == [
        ("2024-03-02T08:30:00Z", "0", "650.25", "80.0", "1000.0", "GPU-aaa"),
        ("2024-03-02T08:30:00Z", "1", "70.1", "0.0", "5.0", "GPU-bbb"),
        ("2024-03-02T08:30:05Z", "0", "120.0", "90.0", "1200.0", "GPU-aaa"),  # instantaneous N/A: average
        ("2024-03-02T08:30:05Z", "1", "70.1", "0.0", "5.0", "GPU-bbb"),
    ]
    assert {r["host"] for r in g} == {"gpu01"}
    assert any("gpu_model=NVIDIA H100 80GB HBM3" in n for n in f.notes)


# ------------------------------------------------------------------------------ dcgm

_LABELS = 'gpu="{g}",UUID="GPU-{g}",device="nvidia{g}",modelName="NVIDIA A100",Hostname="node7"'


def test_dcgm_with_timestamps(tmp_path):
    lines = ["# Scrape", "```", "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).", "# TYPE DCGM_FI_DEV_POWER_USAGE gauge"]
    for t in (1774009423000, 1774009424000):
        for g in (0, 1):
            lab = "{" + _LABELS.format(g=g) + "}"
            lines += [
                f"DCGM_FI_DEV_POWER_USAGE{lab} {100 + g}.5 {t}",
                f"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{lab} {5000 + g} {t}",
                f"DCGM_FI_DEV_GPU_UTIL{lab} {g} {t}",
                f"DCGM_FI_DEV_SM_CLOCK{lab} 1410 {t}",
            ]
    lines += ["```", "> Note: DCGM_FI_DEV_POWER_USAGE is available."]
    f, rows = _run(tmp_path, "dcgm", "scrape.md", "\n".join(lines) + "\n")
    g = rows["gpu_samples"]
    assert (f.rows_in, f.rows_out, f.rows_folded, f.rows_flagged) == (16, 4, 12, 0)
    assert [(r["ts"], r["host"], r["gpu"], r["power_w"], r["energy_mj"], r["util_pct"]) for r in g] == [
        ("2026-03-20T12:23:43Z", "node7", "0", "100.5", "5000.0", "0.0"),
        ("2026-03-20T12:23:43Z", "node7", "1", "101.5", "5001.0", "1.0"),
        ("2026-03-20T12:23:44Z", "node7", "0", "100.5", "5000.0", "0.0"),
        ("2026-03-20T12:23:44Z", "node7", "1", "101.5", "5001.0", "1.0"),
    ]
    assert g[0]["origin_line"] == "5"  # the POWER_USAGE line


def test_dcgm_without_timestamps(tmp_path):
    lab = "{" + _LABELS.format(g=0).replace(',Hostname="node7"', "") + "}"
    scrape1 = f"DCGM_FI_DEV_POWER_USAGE{lab} 27.1\nDCGM_FI_DEV_FB_USED{lab} 100\n"
    scrape2 = f"DCGM_FI_DEV_POWER_USAGE{lab} 30.0\nDCGM_FI_DEV_FB_USED{lab} 100\n"
    # the same scrape printed twice is folded; its row needs a time
    f, rows = _run(tmp_path, "dcgm", "one.txt", scrape1 + "kubectl output\n" + scrape1, {"host": "edge1"})
    assert (f.rows_in, f.rows_out, f.rows_folded, f.rows_flagged) == (4, 1, 3, 1)
    assert rows["gpu_samples"][0]["import_error"] == "no timestamp in scrape; pass --option ts=... (the time of the scrape)"
    assert rows["gpu_samples"][0]["host"] == "edge1"
    f, rows = _run(tmp_path, "dcgm", "one_ts.txt", scrape1, {"host": "edge1", "ts": "2026-03-20T13:00:00+01:00"})
    assert f.rows_flagged == 0 and rows["gpu_samples"][0]["ts"] == "2026-03-20T12:00:00Z"
    # two different scrapes without times cannot both sit at option ts
    f, rows = _run(tmp_path, "dcgm", "two.txt", scrape1 + scrape2, {"ts": "2026-03-20T12:00:00Z"})
    assert (f.rows_out, f.rows_flagged) == (2, 2)
    assert "cannot tell their times apart" in rows["gpu_samples"][0]["import_error"]


# ------------------------------------------------------------------------------ codecarbon

_CC_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
    "cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,"
    "cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,"
    "latitude,ram_total_size,tracking_mode,on_cloud,pue"
)


def _cc_row(ts, project, run_id, duration, energy, gpu_power=200.0, cpu_power=40.0, version="2.8.3"):
    return (
        f"{ts},{project},{run_id},exp-1,{duration},0.5,0.001,{cpu_power},{gpu_power},10.0,0.1,0.8,0.1,{energy},"
        f"Norway,NOR,oslo,,,Linux,3.11,{version},32,Xeon,1,1 x NVIDIA A100,10.7,59.9,64.0,machine,N,1.0"
    )


def test_codecarbon_legacy_crlf(tmp_path):
    text = (
        "timestamp,experiment_id,project_name,duration,emissions,energy_consumed,country_name,country_iso_code,"
        "region,on_cloud,cloud_provider,cloud_region\r\n"
        "2023-11-05T08:00:00,exp-a,demo,120.0,0.002,0.004,Norway,NOR,,N,,\r\n"
    )
    f, rows = _run(tmp_path, "codecarbon", "emissions.csv", text, {"codecarbon": {"site": "oslo-dc1"}})
    j = rows["jobs"][0]
    assert j["site"] == "oslo-dc1"
    assert (j["job_id"], j["start"], j["end"], j["energy_kwh"], j["codecarbon_emissions_kg"]) == (
        "exp-a@2023-11-05T08:00:00", "2023-11-05T07:58:00Z", "2023-11-05T08:00:00Z", "0.004", "0.002",
    )
    assert (j["model"], j["stage"], j["state"], j["tier"], j["codecarbon_version"]) == (
        "demo", "other", "COMPLETED", "measured_job", "",
    )


def test_codecarbon_quirks_and_rules(tmp_path):
    rows_text = [
        _CC_HEADER,
        _cc_row("2025-05-30T00:50:12", "llama-7b_train", "r1", 3600, 1.5),
        "\x00" * 5000 + _cc_row("2025-05-30T01:50:12", "llama-7b_eval", "r1", 60, 0.01, version="3.0.7"),
        _cc_row("2025-05-30T02:50:12", "bert_sweep", "r3", 10, 0.001, gpu_power=10633.0),
        "2025-05-30T03:00:00,bert_sweep," + "," * 29,
        _cc_row("2025-05-30T04:00:00", "misc", "r5", 10, 0.001, cpu_power=960.0),
    ]
    rules = [
        {"match": r"^(?P<model>.+)_train$", "stage": "training"},
        {"match": r"^(.+)_eval$", "model": r"\1", "stage": "evaluation"},
        {"match": "sweep", "field": "project_name", "model": "bert", "stage": "experimentation"},
    ]
    f, rows = _run(
        tmp_path, "codecarbon", "emissions.csv", "\r\n".join(rows_text) + "\r\n", {"codecarbon": {"rules": rules}}
    )
    j = rows["jobs"]
    assert [(r["job_id"], r["model"], r["stage"]) for r in j] == [
        ("r1", "llama-7b", "training"), ("r1#2", "llama-7b", "evaluation"), ("r3", "bert", "experimentation"),
        ("emissions:5", "bert", "experimentation"), ("r5", "misc", "other"),
    ]
    assert [r["origin_line"] for r in j] == ["2", "3", "4", "5", "6"]
    assert j[0]["import_error"] == j[1]["import_error"] == ""
    assert j[0]["start"] == "2025-05-29T23:50:12Z"
    assert (j[0]["cpu_energy_kwh"], j[0]["gpu_energy_kwh"], j[0]["ram_energy_kwh"]) == ("0.1", "0.8", "0.1")
    assert (j[0]["gpu_model"], j[0]["gpu_count"], j[0]["country_iso_code"]) == ("1 x NVIDIA A100", "1", "NOR")
    assert "implausible gpu_power 10633 W" in j[2]["import_error"]
    assert "energy_consumed '' is not a number" in j[3]["import_error"]
    assert "implausible cpu_power 960 W for 32 CPU thread(s) (limit 800 W)" in j[4]["import_error"]
    assert f.rows_flagged == 3
    assert "5000 NUL bytes removed" in f.notes
    assert "versions: 2.8.3 (3 rows), 3.0.7 (1 rows), not recorded (1 rows)" in f.notes


def test_codecarbon_not_an_emissions_file(tmp_path):
    with pytest.raises(ImporterError, match="not a CodeCarbon emissions.csv header"):
        _run(tmp_path, "codecarbon", "x.csv", "a,b,c\n1,2,3\n")


# ------------------------------------------------------------------------------ sacct


def test_expand_nodelist():
    assert expand_nodelist("node[01-04,07]") == ["node01", "node02", "node03", "node04", "node07"]
    assert expand_nodelist("gpu-[1-2],cpu3") == ["gpu-1", "gpu-2", "cpu3"]
    assert expand_nodelist("r[1-2]n[8-10]") == ["r1n8", "r1n9", "r1n10", "r2n8", "r2n9", "r2n10"]
    assert expand_nodelist("gpu-10") == ["gpu-10"]
    assert expand_nodelist("None assigned") == []
    with pytest.raises(ValueError):
        expand_nodelist("node[1-")


def test_gpu_count_and_state():
    assert gpu_count("billing=16,cpu=16,gres/gpu:h100=2,gres/gpu=2,mem=64G,node=1") == 2
    assert gpu_count("cpu=24,gres/gpu:l40s=4,mem=96G") == 4
    assert gpu_count("cpu=8,gres/gpu:a100=2,gres/gpu:v100=1") == 3
    assert gpu_count("cpu=8,gres/gpu=4") == 4
    assert gpu_count("cpu=8,gres/gpumem=40G,mem=1G") == 0
    assert gpu_count("gpu:a100:2") == 2
    assert normalise_state("CANCELLED by 123") == ("CANCELLED", None)
    assert normalise_state("CANCELLED+", truncated=True) == ("CANCELLED", None)
    assert normalise_state("OUT_OF_MEMORY") == ("FAILED", None)
    assert normalise_state("PENDING")[0] is None


_SACCT = """JobID|JobName|Account|User|State|Start|End|NodeList|AllocTRES|ConsumedEnergyRaw|Partition
100|pretrain-llama|ml|alice|COMPLETED|2025-01-01T10:00:00|2025-01-01T12:00:00|node[01-02]|cpu=64,gres/gpu:a100=8,gres/gpu=8,node=2|7200000|gpu
100.batch|batch|ml||COMPLETED|2025-01-01T10:00:00|2025-01-01T12:00:00|node01|cpu=32,gres/gpu=4|3600000|
100.extern|extern|ml||COMPLETED|2025-01-01T10:00:00|2025-01-01T12:00:00|node[01-02]|cpu=64|7200000|
100.0|python|ml||COMPLETED|2025-01-01T10:00:01|2025-01-01T11:59:00|node[01-02]|cpu=64,gres/gpu=8|7100000|
101|eval-bert|nlp|bob|CANCELLED by 4242|2025-01-02T10:00:00|2025-01-02T10:30:00|gpu-[1-2],cpu3|cpu=3,gres/gpu=3|0|gpu
102|notebook|nlp|bob|RUNNING|2025-01-03T10:00:00|Unknown|gpu-1|cpu=4,gres/gpu:l40s=1||gpu
103|queued|nlp|bob|PENDING|Unknown|Unknown|None assigned||18446744073709551614|gpu
104.batch|batch|nlp||COMPLETED|2025-01-04T10:00:00|2025-01-04T11:00:00|gpu-1||1|
"""


def test_sacct_parsable2(tmp_path):
    rules = [
        {"match": r"^pretrain-(?P<model>.+)$", "field": "JobName", "stage": "training"},
        {"match": "^nlp$", "field": "Account", "model": "bert", "stage": "evaluation"},
    ]
    f, rows = _run(tmp_path, "sacct", "cluster.txt", _SACCT, {"sacct": {"rules": rules}, "timezone": "Europe/Oslo"})
    jobs = {r["job_id"]: r for r in rows["jobs"]}
    assert (f.rows_in, f.rows_out, f.rows_folded) == (8, 5, 3)
    assert list(jobs) == ["100", "101", "102", "103", "104.batch"]
    j = jobs["100"]
    assert (j["model"], j["stage"], j["state"], j["project"], j["user"]) == ("llama", "training", "COMPLETED", "ml", "alice")
    assert (j["start"], j["end"], j["energy_kwh"]) == ("2025-01-01T09:00:00Z", "2025-01-01T11:00:00Z", "2.0")
    assert (jobs["101"]["state"], jobs["101"]["model"], jobs["101"]["energy_kwh"]) == ("CANCELLED", "bert", "")
    assert jobs["102"]["import_error"] == "End=Unknown (still running); pass sacct.now"
    assert jobs["103"]["import_error"] == "state PENDING: the job has not started"
    assert "job step without its job line" in jobs["104.batch"]["import_error"]
    assert f.rows_flagged == 3
    allocs = [(a["job_id"], a["host"], a["gpu"]) for a in rows["allocations"]]
    assert allocs == (
        [("100", h, str(g)) for h in ("node01", "node02") for g in range(4)]
        + [("101", h, "0") for h in ("gpu-1", "gpu-2", "cpu3")]
        + [("102", "gpu-1", "0")]
    )
    flagged_alloc = [a for a in rows["allocations"] if a["job_id"] == "102"][0]
    assert flagged_alloc["import_error"].startswith("job row flagged: End=Unknown")
    assert "gpu indices assumed 0..k-1 on each node (sacct gives GPU counts per node, not indices)" in f.notes
    assert any("ConsumedEnergyRaw=0" in n for n in f.notes) and any("NO_VAL" in n for n in f.notes)
    # with sacct.now (dotted option key) the running job gets an end
    _, rows2 = _run(tmp_path, "sacct", "cluster2.txt", _SACCT, {"sacct.now": "2025-01-03T12:00:00Z"})
    j102 = [r for r in rows2["jobs"] if r["job_id"] == "102"][0]
    assert (j102["end"], j102["import_error"]) == ("2025-01-03T12:00:00Z", "")


def test_sacct_headerless_and_parsable_trailing_pipe(tmp_path):
    body = "\n".join(line for line in _SACCT.splitlines()[1:3]) + "\n"
    fields = _SACCT.splitlines()[0].split("|")
    f, rows = _run(tmp_path, "sacct", "noheader.txt", body, {"sacct": {"fields": fields}})
    assert (f.rows_in, f.rows_out, f.rows_folded, f.rows_flagged) == (2, 1, 1, 0)
    f, rows = _run(tmp_path, "sacct", "noheader2.txt", body)
    assert f.rows_flagged == 2 and "pass option sacct.fields" in rows["jobs"][0]["import_error"]
    trailing = "\n".join(line + "|" for line in _SACCT.splitlines()[:2]) + "\n"
    f, rows = _run(tmp_path, "sacct", "parsable.txt", trailing)
    assert f.rows_flagged == 0 and rows["jobs"][0]["energy_kwh"] == "2.0"


_FIXED = """JobID           JobName  Partition    Account  AllocCPUS      State ExitCode 
------------ ---------- ---------- ---------- ---------- ---------- -------- 
76543210_10  train_lon+    compute        lab         40  COMPLETED      0:0 
76543210_10+      batch                   lab         40  COMPLETED      0:0 
76543210_10+     extern                   lab         40  COMPLETED      0:0 
76540000     eval_short     gpu-a4        lab          1 CANCELLED+      0:0 
76540000.ba+      batch                   lab          1  CANCELLED     0:15 
76543210_10+ train_lon+    compute        lab         40  COMPLETED      0:0 
"""


def test_sacct_fixed_width(tmp_path):
    f, rows = _run(tmp_path, "sacct", "fixed.txt", _FIXED)
    jobs = rows["jobs"]
    assert (f.rows_in, f.rows_out, f.rows_folded) == (6, 3, 3)
    assert [(j["job_id"], j["state"], j["partition"], j["project"]) for j in jobs] == [
        ("76543210_10", "COMPLETED", "compute", "lab"),
        ("76540000", "CANCELLED", "gpu-a4", "lab"),
        ("76543210_10+", "COMPLETED", "compute", "lab"),  # a job whose id was cut: flagged, not guessed
    ]
    assert "cut by sacct's column width" in jobs[2]["import_error"]
    assert all("export has no Start, End field(s)" in j["import_error"] for j in jobs)
    assert jobs[0]["job_name"] == "train_lon+"


def test_reimport_removes_stale_outputs(tmp_path):
    f, _ = _run(tmp_path, "sacct", "c.txt", _SACCT)
    alloc = f.outputs["allocations"]
    assert alloc.exists()
    f2, rows = _run(tmp_path, "sacct", "c.txt", "JobID|State|Start|End\n1|COMPLETED|2025-01-01T00:00:00|2025-01-01T01:00:00\n")
    assert not alloc.exists() and "allocations" not in f2.outputs and len(rows["jobs"]) == 1


def test_sacct_requeued_duplicates_and_uneven_split(tmp_path):
    text = (
        "JobID|State|Start|End|NodeList|AllocTRES\n"
        "7|COMPLETED|2025-01-01T00:00:00|2025-01-01T01:00:00|n[1-2]|gres/gpu=3\n"
        "7|COMPLETED|2025-01-01T02:00:00|2025-01-01T03:00:00|n1|gres/gpu=1\n"
    )
    f, rows = _run(tmp_path, "sacct", "dup.txt", text)
    assert [j["job_id"] for j in rows["jobs"]] == ["7", "7#2"]
    assert [(a["job_id"], a["host"]) for a in rows["allocations"]] == [("7#2", "n1")]
    assert any("do not split evenly" in n for n in f.notes)


# ------------------------------------------------------------------------------ electricitymaps

_EM = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,Data Source,"
    "Data Estimated,Data Estimation Method\n"
    '2024-01-01 00:00:00,Germany,"Germany, Luxembourg",DE,150.5,201.25,70.0,60.0,entsoe.eu,false,\n'
    "2024-01-01 01:00:00,Germany,Germany,DE,155.0,,71.0,61.0,entsoe.eu,true,ESTIMATED_FORECASTS_HIERARCHY\n"
)


def test_electricitymaps(tmp_path):
    f, rows = _run(tmp_path, "electricitymaps", "DE-LU_2024_hourly.csv", _EM)
    g = rows["grid_intensity"]
    assert (f.rows_in, f.rows_out, f.rows_flagged, f.rows_written["grid_intensity"]) == (2, 2, 1, 4)
    assert [(r["zone"], r["ts"], r["basis"], r["gco2e_per_kwh"], r["estimated"], r["kind"]) for r in g] == [
        ("DE", "2024-01-01T00:00:00Z", "direct", "150.5", "false", "average"),
        ("DE", "2024-01-01T00:00:00Z", "lifecycle", "201.25", "false", "average"),
        ("DE", "2024-01-01T01:00:00Z", "direct", "155.0", "true", "average"),
        ("DE", "2024-01-01T01:00:00Z", "lifecycle", "", "true", "average"),
    ]
    assert g[3]["import_error"] == "Carbon Intensity gCO₂eq/kWh (LCA) is empty"
    assert g[2]["source"] == "Electricity Maps (ODbL); data source: entsoe.eu; estimation: ESTIMATED_FORECASTS_HIERARCHY"
    assert any("file name says zone DE-LU" in n for n in f.notes)
    _, rows = _run(tmp_path, "electricitymaps", "x.csv", _EM, {"electricitymaps": {"zone": "DE-LU"}})
    assert {r["zone"] for r in rows["grid_intensity"]} == {"DE-LU"}


# ------------------------------------------------------------------------------ boavizta-pcf

_PCF_COLS = "manufacturer;name;category;subcategory;gwp_total;gwp_use_ratio;yearly_tec;lifetime;use_location;report_date;sources;gwp_manufacturing_ratio"


def test_boavizta_fr_and_us(tmp_path):
    fr = (
        _PCF_COLS + "\r\n"
        "Acme;Rack 9000;Datacenter;Server;5000;0,8000;1500,5;5;EU;March 2021;https://acme.example/pcf.pdf;0,2500\r\n"
        "Acme;Rack 9001;Datacenter;Server;;;;;;;;\r\n"
    )
    f, rows = _run(tmp_path, "boavizta-pcf", "boavizta-data-fr.csv", fr)
    r = rows["pcf_factors"]
    assert f.outputs["pcf_factors"].name == "boavizta-pcf__boavizta-data-fr.csv"
    assert (r[0]["gwp_total_kgco2e"], r[0]["gwp_manufacturing_ratio"], r[0]["gwp_manufacturing_kgco2e"]) == (
        "5000.0", "0.25", "1250.0",
    )
    assert (r[0]["lifetime_years"], r[0]["yearly_tec_kwh"], r[0]["match_key"]) == ("5.0", "1500.5", "acme|rack 9000")
    assert r[0]["source"].startswith("Boavizta environmental-footprint-data (ODbL 1.0); Acme PCF March 2021: https://acme.example/pcf.pdf")
    assert r[1]["import_error"] == "gwp_total is empty"
    us = _PCF_COLS.replace(";", ",") + "\nAcme,Rack 9000,Datacenter,Server,5000,0.8000,1500.5,5,EU,March 2021,x,0.2500\n"
    _, rows_us = _run(tmp_path, "boavizta-pcf", "boavizta-data-us.csv", us)
    assert rows_us["pcf_factors"][0]["gwp_manufacturing_kgco2e"] == "1250.0"


# ------------------------------------------------------------------------------ registry and options


def test_folder_import_suffixes_and_stems(tmp_path):
    src = tmp_path / "sacct"
    src.mkdir()
    (src / "a.txt").write_text(_SACCT)
    (src / "a.csv").write_text(_SACCT)
    (src / "README.md").write_text("not sacct")
    (src / ".hidden.txt").write_text("ignored")
    result = import_source("sacct", src, tmp_path / "data")
    assert [f.source.name for f in result.files] == ["a.csv", "a.txt"]
    assert [p.name for p in result.skipped] == ["README.md"]
    assert [f.outputs["jobs"].name for f in result.files] == ["sacct__a.csv", "sacct__a_txt.csv"]
    assert result.rows_in == result.rows_out + result.rows_folded == 16


def test_unknown_kind_and_missing_path(tmp_path):
    with pytest.raises(ImporterError, match="unknown importer kind"):
        import_source("slurm", tmp_path, tmp_path)
    with pytest.raises(ImporterError, match="no such file"):
        import_source("sacct", tmp_path / "nope", tmp_path)


def test_options_dotted_and_per_kind():
    assert normalize_options({"sacct.now": "x", "sacct": {"fields": "A|B"}}) == {"sacct": {"fields": "A|B", "now": "x"}}
    opts = {"host": "h1", "timezone": "UTC", "nvidia-smi": {"host": "h2"}, "sacct": {"rules": []}}
    assert effective_options(opts, "nvidia-smi")["host"] == "h2"
    assert effective_options(opts, "dcgm")["host"] == "h1"
    assert "rules" in effective_options(opts, "sacct") and "rules" not in effective_options(opts, "codecarbon")
    nested = {"importers": {"timezone": "Europe/Oslo", "sacct": {"now": "2025-01-01T00:00:00"}}, "hosts": {"a": "b"}}
    assert effective_options(nested, "sacct") == {"timezone": "Europe/Oslo", "now": "2025-01-01T00:00:00", "hosts": {"a": "b"}}
