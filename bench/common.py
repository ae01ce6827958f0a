"""Shared helpers: run a command in a subprocess and measure its wall time and peak RSS."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# "  staging.gpu_samples        88473600 rows    41.20 s (0 quarantined)", written by lca.progress
PROGRESS = re.compile(r"^\s*([a-z_]+\.[a-z0-9_]+)\s+(\d+) rows\s+([0-9.]+) s")
TELEMETRY_ASSETS = ("staging.gpu_samples", "staging.node_samples", "intermediate.telemetry_energy_hourly")


@dataclass
class Measured:
    cmd: list[str]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    load_before: str = ""
    load_after: str = ""
    assets: dict[str, float] = field(default_factory=dict)

    def last_json(self) -> dict:
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise ValueError(f"no JSON line in the output of {' '.join(self.cmd)}")

    @property
    def telemetry_s(self) -> float:
        return sum(self.assets.get(a, 0.0) for a in TELEMETRY_ASSETS)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def parse_progress(text: str) -> dict[str, float]:
    """Per-asset seconds from the lca.progress lines (summed if an asset ran more than once)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = PROGRESS.match(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


def measure(cmd: list[str], env: dict[str, str] | None = None, echo: bool = False,
            check: bool = True, cwd: Path | None = None) -> Measured:
    """Run cmd; wall time and the child's own peak RSS (os.wait4 gives that one child's rusage)."""
    full_env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1", **(env or {})}
    before = loadavg()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                            cwd=cwd or REPO)
    chunks: dict[str, list[str]] = {"out": [], "err": []}

    def pump(stream, key):
        for line in stream:
            chunks[key].append(line)
            if echo and key == "out":
                sys.stdout.write("    | " + line)
                sys.stdout.flush()

    threads = [threading.Thread(target=pump, args=(proc.stdout, "out")),
               threading.Thread(target=pump, args=(proc.stderr, "err"))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    m = Measured(cmd, seconds, usage.ru_maxrss / 1024.0, proc.returncode, "".join(chunks["out"]),
                 "".join(chunks["err"]), before, loadavg())
    m.assets = parse_progress(m.stdout)
    if check and m.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {m.returncode}:\n{m.stdout[-3000:]}\n{m.stderr[-3000:]}")
    return m


def duckdb_version() -> str:
    try:
        import duckdb

        return duckdb.__version__
    except ImportError:
        return "?"


def machine() -> dict:
    """The machine a study ran on: nproc, CPU model, RAM, Python, DuckDB, git revision."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                             cwd=REPO, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = "?"
    return {"nproc": os.cpu_count(), "mem_gb": mem_gb, "cpu": model, "python": platform.python_version(),
            "duckdb": duckdb_version(), "git": rev}


def python() -> str:
    return sys.executable
