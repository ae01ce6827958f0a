"""Tests for `lca collect` (lca_pipeline.collector), with a fake NVML and a fake clock: no GPU,
no driver and no real sleeping (apart from one short real-time stop test)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lca_pipeline import collector as col
from lca_pipeline.collector import (
    GPU_SAMPLES_COLUMNS,
    CollectorError,
    JobResolver,
    make_signal_handler,
    parse_interval,
    run_collector,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


# ------------------------------------------------------------------------------------------
# fakes
# ------------------------------------------------------------------------------------------


class FakeClock:
    """Epoch-seconds clock; `wait` advances time instead of sleeping and runs timed hooks."""

    def __init__(self, t0: float, stop: threading.Event | None = None) -> None:
        self.t = t0
        self.stop = stop or threading.Event()
        self.waits: list[float] = []
        self.hooks: list[tuple[float, object]] = []  # (time, callable) fired once when passed

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt

    def at(self, t: float, fn) -> None:
        self.hooks.append((t, fn))

    def wait(self, timeout: float) -> bool:
        assert timeout >= 0, timeout
        self.waits.append(timeout)
        target = self.t + timeout
        for when, fn in sorted(self.hooks, key=lambda h: h[0]):
            if self.t <= when <= target and not self.stop.is_set():
                self.t = when
                self.hooks.remove((when, fn))
                fn()
        if self.stop.is_set():  # Event.wait returns early when the event is set
            return True
        self.t = target
        return False


# the NVMLError_* names the collector relies on (checked against the real pynvml below)
ERROR_NAMES = (
    "NVMLError_LibraryNotFound",
    "NVMLError_DriverNotLoaded",
    "NVMLError_GpuIsLost",
    "NVMLError_NotSupported",
    "NVMLError_NoPermission",
    "NVMLError_Unknown",
    "NVMLError_Uninitialized",
)
FUNCTION_NAMES = (
    "nvmlInit",
    "nvmlShutdown",
    "nvmlSystemGetDriverVersion",
    "nvmlDeviceGetCount",
    "nvmlDeviceGetHandleByIndex",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetName",
    "nvmlDeviceGetPowerUsage",
    "nvmlDeviceGetTotalEnergyConsumption",
    "nvmlDeviceGetUtilizationRates",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetComputeRunningProcesses",
)


class FakeNVMLError(Exception):
    pass


class FakeNvml:
    """Module-like stand-in for pynvml with deterministic GPUs.

    GPU i draws a constant P_i = 100 + 25 i W; its energy counter is E0_i + P_i * (t - t0) * 1000 mJ,
    so the true energy between two reads is exactly P_i * dt.  Each NVML read costs `read_cost`
    seconds of (fake) time, so a drifting sleep(interval) schedule would be visible.
    """

    NVMLError = FakeNVMLError

    def __init__(
        self,
        clock: FakeClock,
        n_gpus: int = 4,
        *,
        read_cost: float = 0.001,
        init_error: str | None = None,
        lost_after: dict[int, int] | None = None,  # gpu -> power reads that succeed before lost
        power_fail: dict[int, set[int]] | None = None,  # gpu -> power read numbers that fail
        no_energy: set[int] = frozenset(),
        procs: dict[int, list[int]] | None = None,
        slow_read: dict[tuple[int, int], float] | None = None,  # (gpu, power read no) -> extra s
        reset_at: dict[int, float] | None = None,  # gpu -> epoch s when the driver reloads (counter from 0)
        power_fn=None,  # (gpu, power read no) -> W reported, instead of the constant P_i
    ) -> None:
        for name in ERROR_NAMES:
            setattr(self, name, type(name, (FakeNVMLError,), {}))
        self.clock = clock
        self.t0 = clock()
        self.n = n_gpus
        self.read_cost = read_cost
        self.init_error = init_error
        self.lost_after = lost_after or {}
        self.power_fail = power_fail or {}
        self.no_energy = set(no_energy)
        self.procs = procs or {}
        self.slow_read = slow_read or {}
        self.reset_at = reset_at or {}
        self.power_fn = power_fn
        self.initialised = False
        self.shutdown_calls = 0
        self.power_reads = [0] * n_gpus
        self.energy_calls = [0] * n_gpus
        self.proc_calls = 0

    # truth
    def power_w(self, i: int) -> float:
        return 100.0 + 25.0 * i

    def energy_mj(self, i: int, t: float) -> int:
        if i in self.reset_at and t >= self.reset_at[i]:
            return int(round(self.power_w(i) * (t - self.reset_at[i]) * 1000))
        return int(round(5_000_000 * (i + 1) + self.power_w(i) * (t - self.t0) * 1000))

    # pynvml API
    def nvmlInit(self):
        if self.init_error:
            raise getattr(self, self.init_error)("NVML Shared Library Not Found")
        self.initialised = True

    def nvmlShutdown(self):
        if not self.initialised:
            raise self.NVMLError_Uninitialized("Uninitialized")
        self.shutdown_calls += 1
        self.initialised = False

    def nvmlSystemGetDriverVersion(self):
        return b"550.54.15"

    def nvmlDeviceGetCount(self):
        return self.n

    def nvmlDeviceGetHandleByIndex(self, i):
        assert self.initialised
        return ("handle", i)

    def nvmlDeviceGetUUID(self, h):
        return f"GPU-0000-{h[1]:04d}"

    def nvmlDeviceGetName(self, h):
        return b"Fake H100 80GB HBM3"

    def nvmlDeviceGetPowerUsage(self, h):
        i = h[1]
        self.clock.advance(self.read_cost + self.slow_read.get((i, self.power_reads[i]), 0.0))
        k = self.power_reads[i]
        self.power_reads[i] += 1
        if i in self.lost_after and k >= self.lost_after[i]:
            raise self.NVMLError_GpuIsLost("GPU is lost")
        if k in self.power_fail.get(i, ()):
            raise self.NVMLError_Unknown("Unknown Error")
        if self.power_fn is not None:
            return int(round(self.power_fn(i, k) * 1000))
        return int(self.power_w(i) * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        i = h[1]
        self.energy_calls[i] += 1
        if i in self.no_energy:
            raise self.NVMLError_NotSupported("Not Supported")
        return self.energy_mj(i, self.clock())

    def nvmlDeviceGetUtilizationRates(self, h):
        return SimpleNamespace(gpu=10 * h[1], memory=5)

    def nvmlDeviceGetMemoryInfo(self, h):
        return SimpleNamespace(used=(h[1] + 1) * 1024 * 2**20, total=80 * 2**30, free=0)

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        self.proc_calls += 1
        return [SimpleNamespace(pid=p, usedGpuMemory=1) for p in self.procs.get(h[1], [])]


def read_rows(out: Path) -> pa.Table:
    files = sorted((out / "gpu_samples").glob("*.parquet"))
    assert files, "no parquet written"
    return pa.concat_tables([pq.read_table(f) for f in files])


def per_gpu(table: pa.Table, column: str) -> dict[int, list]:
    out: dict[int, list] = {}
    for g, v in zip(table.column("gpu").to_pylist(), table.column(column).to_pylist()):
        out.setdefault(g, []).append(v)
    return out


def run(tmp_path: Path, clock: FakeClock, nvml: FakeNvml, **kw):
    kw.setdefault("host", "node01")
    kw.setdefault("interval_s", 1.0)
    kw.setdefault("install_signal_handlers", False)
    return run_collector(
        tmp_path, nvml=nvml, clock=clock, wait=clock.wait, stop_event=clock.stop, proc_root=tmp_path / "proc", **kw
    )


# ------------------------------------------------------------------------------------------
# output and schedule
# ------------------------------------------------------------------------------------------


def test_rows_written_equal_samples_with_contract_schema(tmp_path):
    t0 = epoch("2024-03-01T12:00:00.500000")
    clock = FakeClock(t0)
    nvml = FakeNvml(clock, n_gpus=4)
    stats = run(tmp_path, clock, nvml, duration_s=10)

    assert stats.ticks == 10
    assert stats.samples == 40
    assert stats.errors == 0
    assert stats.files == [tmp_path / "gpu_samples" / "node01-20240301T12.parquet"]
    assert stats.gpus == [0, 1, 2, 3]
    assert stats.gpu_names[0] == "Fake H100 80GB HBM3"
    assert stats.driver_version == "550.54.15"
    assert nvml.shutdown_calls == 1

    t = read_rows(tmp_path)
    assert t.num_rows == stats.samples
    assert t.column_names == list(GPU_SAMPLES_COLUMNS)
    assert t.schema.field("ts").type == pa.timestamp("us")  # timezone-naive UTC
    assert t.schema.field("gpu").type == pa.int32()
    assert set(t.column("host").to_pylist()) == {"node01"}
    assert per_gpu(t, "power_w") == {i: [100.0 + 25 * i] * 10 for i in range(4)}
    assert per_gpu(t, "util_pct") == {i: [10.0 * i] * 10 for i in range(4)}
    assert per_gpu(t, "mem_used_mib") == {i: [1024.0 * (i + 1)] * 10 for i in range(4)}
    assert per_gpu(t, "gpu_uuid")[3] == ["GPU-0000-0003"] * 10
    assert t.column("job_id").null_count == 40
    # fixed-rate: sample k at exactly t0 + k s although every tick spends 4 ms reading NVML
    ts = sorted(set(t.column("ts").to_pylist()))
    expected = [datetime.fromtimestamp(t0 + k, tz=timezone.utc).replace(tzinfo=None) for k in range(10)]
    assert ts == expected
    assert len(clock.waits) == 9
    assert all(abs(w - (1.0 - 0.004)) < 1e-6 for w in clock.waits)  # epoch floats: ~2e-7 s resolution


def test_overrun_skips_missed_slots_instead_of_bursting(tmp_path):
    t0 = epoch("2024-03-01T12:00:00")
    clock = FakeClock(t0)
    # the 4th read of GPU 0 stalls 2.5 s: slots 4 and 5 are missed, sampling resumes at t0+6
    nvml = FakeNvml(clock, n_gpus=2, slow_read={(0, 3): 2.5})
    stats = run(tmp_path, clock, nvml, duration_s=10)
    ts = sorted({v.replace(tzinfo=timezone.utc).timestamp() for v in read_rows(tmp_path).column("ts").to_pylist()})
    assert [round(v - t0, 6) for v in ts] == [0, 1, 2, 3, 6, 7, 8, 9]
    assert stats.ticks == 8 and stats.samples == 16


def test_energy_from_counter_matches_fake_truth(tmp_path):
    clock = FakeClock(epoch("2024-03-01T08:15:00"))
    nvml = FakeNvml(clock, n_gpus=8)
    stats = run(tmp_path, clock, nvml, duration_s=30)
    assert stats.samples == 8 * 30
    # truth: constant power P_i over the 29 s between the first and the last sample
    for i in range(8):
        assert stats.energy_j[i] == pytest.approx((100 + 25 * i) * 29, rel=1e-6)
    t = read_rows(tmp_path)
    energy = per_gpu(t, "energy_mj")
    for i in range(8):
        assert (energy[i][-1] - energy[i][0]) / 1000 == pytest.approx((100 + 25 * i) * 29, rel=1e-6)
        assert energy[i] == sorted(energy[i])


def test_hour_rollover_writes_two_files(tmp_path):
    t0 = epoch("2024-03-01T10:59:30")
    clock = FakeClock(t0)
    nvml = FakeNvml(clock, n_gpus=3)
    stats = run(tmp_path, clock, nvml, duration_s=60)
    names = sorted(p.name for p in stats.files)
    assert names == ["node01-20240301T10.parquet", "node01-20240301T11.parquet"]
    assert sorted(p.name for p in (tmp_path / "gpu_samples").iterdir()) == names  # no tmp files left
    early = pq.read_table(tmp_path / "gpu_samples" / names[0])
    late = pq.read_table(tmp_path / "gpu_samples" / names[1])
    assert early.num_rows == 30 * 3 and late.num_rows == 30 * 3
    assert early.num_rows + late.num_rows == stats.samples == 180
    assert {v.hour for v in early.column("ts").to_pylist()} == {10}
    assert {v.hour for v in late.column("ts").to_pylist()} == {11}


def test_existing_hour_file_is_never_overwritten(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    run(tmp_path, clock, FakeNvml(clock, n_gpus=2), duration_s=5)
    first = tmp_path / "gpu_samples" / "node01-20240301T12.parquet"
    before = first.read_bytes()
    clock.advance(60)
    stats = run(tmp_path, clock, FakeNvml(clock, n_gpus=2), duration_s=3)
    assert [p.name for p in stats.files] == ["node01-20240301T12.1.parquet"]
    assert first.read_bytes() == before
    assert pq.read_table(stats.files[0]).num_rows == 6


def test_progress_is_logged_periodically(tmp_path, caplog):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    with caplog.at_level(logging.INFO, logger="lca_pipeline.collector"):
        run(tmp_path, clock, FakeNvml(clock, n_gpus=2), duration_s=12, progress_every_s=5)
    lines = [r.getMessage() for r in caplog.records if "so far" in r.getMessage()]
    # logged after the samples at t0+5 (6 ticks x 2 GPUs) and t0+10 (11 ticks)
    assert lines == ["collector: 12 samples, 0 file(s) written, 0 error(s) so far",
                     "collector: 22 samples, 0 file(s) written, 0 error(s) so far"]


# ------------------------------------------------------------------------------------------
# stopping and signals
# ------------------------------------------------------------------------------------------


def test_stop_event_flushes_every_sample(tmp_path):
    t0 = epoch("2024-03-01T12:00:00")
    clock = FakeClock(t0)
    clock.at(t0 + 7.5, clock.stop.set)
    nvml = FakeNvml(clock, n_gpus=4)
    stats = run(tmp_path, clock, nvml, duration_s=None)
    assert stats.ticks == 8  # samples at t0 .. t0+7, stopped while waiting for t0+8
    assert stats.samples == 32
    assert read_rows(tmp_path).num_rows == 32
    assert nvml.shutdown_calls == 1


def test_stop_event_from_another_thread_real_time(tmp_path):
    """Real clock: the collector runs in a worker thread (so installs no signal handlers) and a
    stop from the main thread ends it promptly, mid-interval, with every sample written."""
    stop = threading.Event()
    nvml = FakeNvml(FakeClock(0.0), n_gpus=2, read_cost=0.0)
    before = signal.getsignal(signal.SIGTERM)
    result: dict = {}

    def work():
        result["stats"] = run_collector(tmp_path, interval_s=0.05, host="n1", stop_event=stop, nvml=nvml)

    th = threading.Thread(target=work)
    th.start()
    time.sleep(0.3)
    stopped_at = time.monotonic()
    stop.set()
    th.join(timeout=5)
    assert not th.is_alive()
    assert time.monotonic() - stopped_at < 1.0
    stats = result["stats"]
    assert stats.ticks >= 3
    assert read_rows(tmp_path).num_rows == stats.samples == 2 * stats.ticks
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_sigterm_stops_and_flushes(tmp_path):
    t0 = epoch("2024-03-01T12:00:00")
    clock = FakeClock(t0)
    guard_calls: list[int] = []

    def guard(signum, frame):  # catches a SIGTERM the collector failed to handle
        guard_calls.append(signum)

    old = signal.signal(signal.SIGTERM, guard)
    try:
        def send_sigterm():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # let the Python-level handler run
                if clock.stop.is_set():
                    break
                time.sleep(0)

        clock.at(t0 + 4.5, send_sigterm)
        nvml = FakeNvml(clock, n_gpus=3)
        stats = run_collector(
            tmp_path, interval_s=1.0, duration_s=60, host="node01", stop_event=clock.stop, nvml=nvml,
            clock=clock, wait=clock.wait, proc_root=tmp_path / "proc",
        )
        assert signal.getsignal(signal.SIGTERM) is guard  # restored
    finally:
        signal.signal(signal.SIGTERM, old)
    assert guard_calls == []
    assert clock.stop.is_set()
    assert stats.ticks == 5
    assert read_rows(tmp_path).num_rows == stats.samples == 15
    assert nvml.shutdown_calls == 1


CHILD = r"""
import json, logging, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
import test_collector as T
from lca_pipeline.collector import run_collector

class Wall:
    def __call__(self):
        return time.time()
    def advance(self, dt):
        pass

stats = run_collector(sys.argv[3], interval_s=10, host="n1", nvml=T.FakeNvml(Wall(), n_gpus=2, read_cost=0))
print(json.dumps({"samples": stats.samples, "ticks": stats.ticks}), flush=True)
"""


def test_real_sigterm_to_a_collector_process_interrupts_the_wait_and_flushes(tmp_path):
    """A separate process with the real clock and a 10 s interval: SIGTERM during the wait ends
    it within a second, with exit status 0 and every sample on disk."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(REPO_ROOT), str(Path(__file__).parent), str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stderr:  # wait until it is sampling (handlers are installed by then)
            if "collector: sampling" in line:
                break
        time.sleep(0.2)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert time.monotonic() - sent < 3
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"samples": 2, "ticks": 1}
    assert read_rows(tmp_path).num_rows == 2


def test_signal_handler_sets_stop_then_second_signal_interrupts():
    stop = threading.Event()
    handler = make_signal_handler(stop)
    handler(signal.SIGINT, None)
    assert stop.is_set()
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGTERM, None)


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["NVMLError_LibraryNotFound", "NVMLError_DriverNotLoaded"])
def test_driver_missing_raises_collector_error(tmp_path, error):
    clock = FakeClock(0.0)
    nvml = FakeNvml(clock, init_error=error)
    with pytest.raises(CollectorError, match=r"^NVIDIA driver/NVML not available: "):
        run(tmp_path, clock, nvml, duration_s=5)
    assert nvml.shutdown_calls == 0
    assert not (tmp_path / "gpu_samples").exists()


def test_real_pynvml_without_driver_raises_collector_error(tmp_path):
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:
        pynvml.nvmlShutdown()
        pytest.skip("an NVIDIA driver is present; covered by scripts/collector_device_check.py")
    with pytest.raises(CollectorError, match=r"^NVIDIA driver/NVML not available: "):
        run_collector(tmp_path, duration_s=1, install_signal_handlers=False)


def test_gpu_lost_mid_run_keeps_other_gpus(tmp_path, caplog):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=4, lost_after={2: 3})
    with caplog.at_level(logging.ERROR, logger="lca_pipeline.collector"):
        stats = run(tmp_path, clock, nvml, duration_s=10)
    counts = {g: len(v) for g, v in per_gpu(read_rows(tmp_path), "power_w").items()}
    assert counts == {0: 10, 1: 10, 2: 3, 3: 10}
    assert stats.samples == 33
    assert stats.errors == 1
    assert stats.lost_gpus == [2]
    assert nvml.power_reads[2] == 4  # not polled again after it was lost
    assert sum("GPU 2" in r.getMessage() and "lost" in r.getMessage() for r in caplog.records) == 1
    assert nvml.shutdown_calls == 1


def test_all_gpus_lost_raises_after_flushing(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=2, lost_after={0: 3, 1: 3})
    with pytest.raises(CollectorError, match="all GPUs were lost") as exc:
        run(tmp_path, clock, nvml, duration_s=60)
    assert exc.value.stats.samples == 6
    assert read_rows(tmp_path).num_rows == 6
    assert nvml.shutdown_calls == 1


def test_power_read_failure_skips_only_that_sample(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=2, power_fail={0: {4, 7}})
    stats = run(tmp_path, clock, nvml, duration_s=10)
    t = read_rows(tmp_path)
    counts = {g: len(v) for g, v in per_gpu(t, "power_w").items()}
    assert counts == {0: 8, 1: 10}
    assert stats.errors == 2
    assert stats.samples == t.num_rows == 18
    assert stats.lost_gpus == []


def test_energy_counter_not_supported_gives_null(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=3, no_energy={1})
    stats = run(tmp_path, clock, nvml, duration_s=6)
    energy = per_gpu(read_rows(tmp_path), "energy_mj")
    assert energy[1] == [None] * 6
    assert None not in energy[0] and None not in energy[2]
    assert stats.energy_j[1] is None
    assert stats.energy_j[0] == pytest.approx(100 * 5)
    assert stats.errors == 0
    assert nvml.energy_calls[1] == 1  # not asked again once known unsupported


def test_failed_write_is_retried_and_nothing_is_lost(tmp_path, monkeypatch):
    real_write = col._Writer.write
    calls: list[int] = []

    def flaky(self, buf):
        calls.append(buf.hour)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_write(self, buf)

    monkeypatch.setattr(col._Writer, "write", flaky)
    clock = FakeClock(epoch("2024-03-01T10:59:50"))
    stats = run(tmp_path, clock, FakeNvml(clock, n_gpus=2), duration_s=20)
    # hour 10 failed at the rollover, stayed buffered and was written at exit together with hour 11
    assert len(calls) == 3 and calls[0] == calls[1]
    assert sorted(p.name for p in stats.files) == ["node01-20240301T10.parquet", "node01-20240301T11.parquet"]
    assert read_rows(tmp_path).num_rows == stats.samples == 40
    assert stats.errors == 1
    assert not [p for p in (tmp_path / "gpu_samples").iterdir() if p.name.endswith(".tmp")]


def test_write_failure_at_exit_raises(tmp_path, monkeypatch):
    def broken(self, buf):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(col._Writer, "write", broken)
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=2)
    with pytest.raises(CollectorError, match="could not write gpu_samples.*No space left") as exc:
        run(tmp_path, clock, nvml, duration_s=3)
    assert exc.value.stats.samples == 6
    assert exc.value.stats.energy_j[1] == pytest.approx(125 * 2)
    assert nvml.shutdown_calls == 1


def test_unusable_output_folder_raises(tmp_path):
    (tmp_path / "file").write_text("x")
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=1)
    with pytest.raises(CollectorError, match="cannot create the output folder"):
        run_collector(tmp_path / "file", nvml=nvml, clock=clock, wait=clock.wait, duration_s=1,
                      install_signal_handlers=False)
    assert nvml.shutdown_calls == 1


# ------------------------------------------------------------------------------------------
# job ids
# ------------------------------------------------------------------------------------------


def make_proc(root: Path) -> Path:
    def proc(pid: int, environ: dict | None = None, cgroup: str | None = None):
        d = root / str(pid)
        d.mkdir(parents=True)
        if environ is not None:
            (d / "environ").write_bytes(b"\0".join(f"{k}={v}".encode() for k, v in environ.items()) + b"\0")
        if cgroup is not None:
            (d / "cgroup").write_text(cgroup)

    proc(100, {"PATH": "/usr/bin", "SLURM_JOB_ID": "42", "SLURM_JOB_NAME": "train"}, "0::/user.slice\n")
    proc(200, {"PATH": "/usr/bin"}, "0::/system.slice/slurmstepd.scope/job_77/step_0/user/task_0\n")
    proc(250, None, "12:memory:/slurm/uid_1000/job_9/step_batch\n11:cpu:/slurm/uid_1000/job_9\n")
    proc(300, {"HOME": "/root"}, "0::/init.scope\n")  # no job
    proc(400, {"SLURM_JOB_ID": "999"}, "0::/slurm/uid_1/job_55/step_0\n")  # environ unreadable
    proc(500, {"SLURM_JOB_ID": "998"}, "0::/slurm/uid_1/job_56/step_0\n")  # both unreadable
    return root


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    root = make_proc(tmp_path / "proc")
    real_read = col._read_bytes
    denied = {root / "400" / "environ", root / "500" / "environ", root / "500" / "cgroup"}
    reads: list[Path] = []

    def read(path: Path) -> bytes:
        reads.append(path)
        if path in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(col, "_read_bytes", read)
    return SimpleNamespace(root=root, reads=reads)


def test_job_resolver_environ_cgroup_and_failures(fake_proc):
    r = JobResolver(fake_proc.root)
    assert r.job_of_pid(100) == "42"  # SLURM_JOB_ID in environ
    assert r.job_of_pid(200) == "77"  # cgroup v2 slurmstepd scope
    assert r.job_of_pid(250) == "9"  # cgroup v1 /slurm/uid_/job_
    assert r.job_of_pid(300) is None  # not a slurm process
    assert r.job_of_pid(400) == "55"  # environ denied -> cgroup
    assert r.job_of_pid(500) is None  # everything denied
    assert r.job_of_pid(12345) is None  # gone
    assert r.job_of_pids([200, 100, 250, 100]) == "9,42,77"  # sorted numerically, de-duplicated
    assert r.job_of_pids([]) is None


def test_job_resolver_caches_per_pid_and_forgets_unseen_pids(fake_proc):
    r = JobResolver(fake_proc.root)
    assert r.job_of_pid(100) == "42"
    n = len(fake_proc.reads)
    for _ in range(5):
        assert r.job_of_pid(100) == "42"
    assert len(fake_proc.reads) == n
    r.job_of_pid(200)
    r.retain([200])
    assert r.cached_pids == {200}
    r.job_of_pid(100)
    assert len(fake_proc.reads) > n + 1  # looked up again after being forgotten


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_job_resolver_on_real_proc():
    child = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
                             env=dict(os.environ, SLURM_JOB_ID="777"), stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"  # exec'd: /proc/<pid>/environ is the child's
        assert JobResolver("/proc").job_of_pid(child.pid) == "777"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_job_id_column_from_running_processes(tmp_path, fake_proc):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    procs = {0: [100], 1: [100, 200], 2: [300, 500], 3: []}
    nvml = FakeNvml(clock, n_gpus=4, procs=procs)
    run(tmp_path, clock, nvml, duration_s=25, job_refresh_s=10)
    jobs = per_gpu(read_rows(tmp_path), "job_id")
    assert jobs[0] == ["42"] * 25
    assert jobs[1] == ["42,77"] * 25
    assert jobs[2] == [None] * 25
    assert jobs[3] == [None] * 25
    assert nvml.proc_calls == 3 * 4  # refreshed at t=0, 10, 20 for each GPU, not every second


# ------------------------------------------------------------------------------------------
# helpers, API surface
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [("1s", 1.0), ("500ms", 0.5), ("2", 2.0), ("1m", 60.0), ("0.25s", 0.25), (" 2 S ", 2.0),
     ("1.5", 1.5), ("1h", 3600.0), ("10sec", 10.0), (3, 3.0), (0.5, 0.5)],
)
def test_parse_interval(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "0", "0s", "-1s", "1 parsec", "1d", "abc", "nan", "1e3"])
def test_parse_interval_rejects(text):
    with pytest.raises(ValueError):
        parse_interval(text)


def test_fake_matches_real_pynvml_names():
    pynvml = pytest.importorskip("pynvml")
    missing = [n for n in ERROR_NAMES + FUNCTION_NAMES + ("NVMLError",) if not hasattr(pynvml, n)]
    assert missing == []
    for n in ERROR_NAMES:
        assert issubclass(getattr(pynvml, n), pynvml.NVMLError)


def test_module_imports_without_pynvml_pyarrow_or_pandas():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('collector', {str(REPO_ROOT / 'lca_pipeline' / 'collector.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['collector'] = m; spec.loader.exec_module(m)\n"
        "heavy = [x for x in ('pynvml', 'pyarrow', 'pandas', 'duckdb', 'dagster') if x in sys.modules]\n"
        "assert heavy == [], heavy\n"
        "print(m.parse_interval('250ms'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.25"


# ------------------------------------------------------------------------------------------
# per-minute roll-up (write="minutes" / "both")
# ------------------------------------------------------------------------------------------


def read_minutes(out: Path) -> list[dict]:
    files = sorted((out / "gpu_energy_minutes").glob("*.parquet"))
    assert files, "no roll-up written"
    table = pa.concat_tables([pq.read_table(f) for f in files])
    assert table.column_names == list(col.GPU_ENERGY_MINUTES_COLUMNS)
    return sorted(table.to_pylist(), key=lambda r: (r["gpu"], r["ts"]))


def raw_by_gpu_minute(t: pa.Table) -> dict[tuple[int, datetime], list[dict]]:
    out: dict[tuple[int, datetime], list[dict]] = {}
    for r in sorted(t.to_pylist(), key=lambda r: (r["gpu"], r["ts"])):
        out.setdefault((r["gpu"], r["ts"].replace(second=0, microsecond=0)), []).append(r)
    return out


def test_rollup_rows_match_the_raw_samples_exactly(tmp_path):
    # 155 s from 12:00:30.25: minute 12:00 has 30 samples, 12:01 and 12:02 60 each, 12:03 five
    t0 = epoch("2024-03-01T12:00:30.250000")
    clock = FakeClock(t0)
    nvml = FakeNvml(clock, n_gpus=3)
    stats = run(tmp_path, clock, nvml, duration_s=155, write="both")
    raw = read_rows(tmp_path)
    rows = read_minutes(tmp_path)
    assert stats.samples == raw.num_rows == 3 * 155
    assert stats.minute_rows == len(rows) == 3 * 4
    assert [p.parent.name for p in stats.files] == ["gpu_energy_minutes", "gpu_samples"]
    assert [r["samples"] for r in rows if r["gpu"] == 0] == [30, 60, 60, 5]
    assert [r["covered_s"] for r in rows if r["gpu"] == 0] == [29.0, 59.0, 59.0, 4.0]
    groups = raw_by_gpu_minute(raw)
    assert set(groups) == {(r["gpu"], r["ts"]) for r in rows}
    for r in rows:
        samples = groups[(r["gpu"], r["ts"])]
        # the row's readings are the first and last raw sample's, so last - first is the sum of
        # the raw counter differences inside the minute, to the millijoule
        assert (r["first_ts"], r["last_ts"]) == (samples[0]["ts"], samples[-1]["ts"])
        assert (r["first_energy_mj"], r["last_energy_mj"]) == (samples[0]["energy_mj"], samples[-1]["energy_mj"])
        diffs = sum(b["energy_mj"] - a["energy_mj"] for a, b in zip(samples, samples[1:]))
        assert r["last_energy_mj"] - r["first_energy_mj"] == diffs
        p = 100.0 + 25 * r["gpu"]
        assert (r["min_power_w"], r["max_power_w"], r["mean_power_w"]) == (p, p, p)
        assert (r["first_power_w"], r["last_power_w"]) == (p, p)
        assert r["mean_util_pct"] == 10.0 * r["gpu"]
        assert r["counter_resets"] == 0 and r["gpu_uuid"] == f"GPU-0000-{r['gpu']:04d}" and r["job_id"] is None
        assert r["host"] == "node01" and r["ts"].second == 0 and r["ts"].microsecond == 0
    # within-minute spans plus the gaps between minutes telescope to the whole run's counter energy
    for g in range(3):
        mine = [r for r in rows if r["gpu"] == g]
        inside = sum(r["last_energy_mj"] - r["first_energy_mj"] for r in mine)
        between = sum(b["first_energy_mj"] - a["last_energy_mj"] for a, b in zip(mine, mine[1:]))
        assert (inside + between) / 1000 == pytest.approx((100 + 25 * g) * 154, abs=1e-3)
        assert (inside + between) / 1000 == stats.energy_j[g]


def test_rollup_min_max_mean_power_and_a_minute_with_one_sample(tmp_path):
    # starts at 12:00:59: minute 12:00 holds one sample, 12:01 the other three
    clock = FakeClock(epoch("2024-03-01T12:00:59"))
    powers = {0: [300.0, 100.0, 200.0, 400.0]}
    nvml = FakeNvml(clock, n_gpus=1, power_fn=lambda i, k: powers[i][k])
    run(tmp_path, clock, nvml, duration_s=4, write="minutes")
    assert not (tmp_path / "gpu_samples").exists()  # roll-up only
    one, three = read_minutes(tmp_path)
    assert (one["samples"], one["covered_s"], one["first_ts"], one["last_ts"]) == (1, 0.0, one["last_ts"], one["last_ts"])
    assert one["first_energy_mj"] == one["last_energy_mj"] is not None
    assert (one["min_power_w"], one["max_power_w"], one["mean_power_w"]) == (300.0, 300.0, 300.0)
    assert (three["samples"], three["covered_s"]) == (3, 2.0)
    assert (three["min_power_w"], three["max_power_w"], three["mean_power_w"]) == (100.0, 400.0, 700.0 / 3)
    assert (three["first_power_w"], three["last_power_w"]) == (100.0, 400.0)
    assert three["first_ts"] == datetime(2024, 3, 1, 12, 1, 0)
    # the second between the two minutes is the counter difference across the boundary
    assert three["first_energy_mj"] - one["last_energy_mj"] == 100_000


def test_rollup_counts_a_counter_reset_inside_the_minute(tmp_path):
    t0 = epoch("2024-03-01T12:00:00")
    clock = FakeClock(t0)
    nvml = FakeNvml(clock, n_gpus=2, reset_at={1: t0 + 70.5})  # GPU 1's driver reloads at 12:01:10.5
    run(tmp_path, clock, nvml, duration_s=180, write="both")
    rows = read_minutes(tmp_path)
    assert [(r["gpu"], r["counter_resets"]) for r in rows] == [(0, 0), (0, 0), (0, 0), (1, 0), (1, 1), (1, 0)]
    reset_row = rows[4]
    raw = raw_by_gpu_minute(read_rows(tmp_path))[(1, reset_row["ts"])]
    backwards = [b["energy_mj"] - a["energy_mj"] for a, b in zip(raw, raw[1:]) if b["energy_mj"] < a["energy_mj"]]
    assert len(backwards) == 1
    # last - first is meaningless here (the counter restarted near 0); the flag tells readers so
    assert reset_row["last_energy_mj"] < reset_row["first_energy_mj"]
    # the next minute starts from the new counter and is exact again
    assert rows[5]["last_energy_mj"] - rows[5]["first_energy_mj"] == 125 * 59 * 1000


def test_rollup_of_a_lost_gpu_keeps_its_last_partial_minute(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=3, lost_after={2: 75})  # GPU 2 answers 75 samples: 12:00:00 .. 12:01:14
    stats = run(tmp_path, clock, nvml, duration_s=150, write="minutes")
    rows = read_minutes(tmp_path)
    assert stats.lost_gpus == [2]
    assert [(r["gpu"], r["samples"]) for r in rows] == [
        (0, 60), (0, 60), (0, 30), (1, 60), (1, 60), (1, 30), (2, 60), (2, 15)]
    lost_last = rows[-1]
    assert lost_last["last_ts"] == datetime(2024, 3, 1, 12, 1, 14)
    assert lost_last["last_energy_mj"] - lost_last["first_energy_mj"] == 150 * 14 * 1000
    # one file for the hour: the lost GPU's open row was closed before the hour was written
    assert [p.name for p in stats.files] == ["node01-20240301T12.parquet"]
    assert stats.minute_rows == 8 and stats.samples == 60 + 60 + 30 + 60 + 60 + 30 + 75


def test_rollup_hour_rollover_puts_each_minute_in_its_hour_file(tmp_path):
    clock = FakeClock(epoch("2024-03-01T10:58:30"))
    stats = run(tmp_path, clock, FakeNvml(clock, n_gpus=2, no_energy={1}), duration_s=180, write="minutes")
    names = sorted(p.name for p in (tmp_path / "gpu_energy_minutes").iterdir())
    assert names == ["node01-20240301T10.parquet", "node01-20240301T11.parquet"]  # no ".1" second file
    early = pq.read_table(tmp_path / "gpu_energy_minutes" / names[0]).to_pylist()
    late = pq.read_table(tmp_path / "gpu_energy_minutes" / names[1]).to_pylist()
    assert sorted({r["ts"].minute for r in early}) == [58, 59] and {r["ts"].hour for r in early} == {10}
    assert sorted({r["ts"].minute for r in late}) == [0, 1] and {r["ts"].hour for r in late} == {11}
    assert sum(r["samples"] for r in early + late) == stats.samples == 360
    # GPU 1 has no energy counter: its rows carry power only
    assert {(r["first_energy_mj"], r["last_energy_mj"]) for r in early + late if r["gpu"] == 1} == {(None, None)}
    assert all(r["first_energy_mj"] is not None for r in early + late if r["gpu"] == 0)


def test_rollup_job_ids_of_the_minute_are_joined(tmp_path, fake_proc):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    nvml = FakeNvml(clock, n_gpus=1, procs={0: [200]})  # job 77, then jobs 42 and 9 share the GPU
    clock.at(epoch("2024-03-01T12:00:15.5"), lambda: nvml.procs.update({0: [100, 250]}))
    run_collector(tmp_path, nvml=nvml, clock=clock, wait=clock.wait, stop_event=clock.stop, host="node01",
                  interval_s=1.0, install_signal_handlers=False, duration_s=40, write="minutes",
                  proc_root=fake_proc.root, job_refresh_s=10)
    (row,) = read_minutes(tmp_path)
    assert row["job_id"] == "9,42,77"


def test_write_mode_is_checked(tmp_path):
    clock = FakeClock(epoch("2024-03-01T12:00:00"))
    with pytest.raises(ValueError, match="write must be one of samples, minutes, both"):
        run(tmp_path, clock, FakeNvml(clock, n_gpus=1), duration_s=2, write="raw")


def test_cli_collect_passes_write_mode(tmp_path, monkeypatch):
    from lca_pipeline import cli

    seen: dict = {}

    def fake_run(out, interval_s, **kw):
        seen.update(kw, out=out, interval_s=interval_s)
        return col.CollectorStats(samples=6, minute_rows=2)

    monkeypatch.setattr(col, "run_collector", fake_run)
    assert cli.main(["collect", "--out", str(tmp_path), "--write", "minutes", "--duration", "3s"]) == 0
    assert seen["write"] == "minutes" and seen["duration_s"] == 3.0 and seen["out"] == tmp_path
    assert cli.main(["collect", "--out", str(tmp_path), "--duration", "3s"]) == 0
    assert seen["write"] == "samples"
