"""`lca collect`: a light NVML telemetry sampler that writes ``gpu_samples`` Parquet.

One process samples every GPU on the host at a fixed rate (default 1 Hz) and writes the
``gpu_samples`` input of the data contract (``docs/data-contract.md``), one file per UTC hour:
``OUT/gpu_samples/<host>-YYYYMMDDTHH.parquet``.  With ``write="minutes"`` or ``"both"`` it also
(or only) writes the ``gpu_energy_minutes`` input: one row per GPU and UTC minute with the first
and last NVML energy-counter reading, so a fleet ships 1,440 rows per GPU-day instead of 86,400.
See ``docs/collector.md``.

Design notes
------------
* ``pynvml`` (package ``nvidia-ml-py``) and ``pyarrow`` are imported lazily inside
  :func:`run_collector`, so ``import lca_pipeline.collector`` works on a machine without a GPU,
  a driver or those packages.
* The hot loop appends plain Python values to per-hour column lists; a pyarrow table is built
  only at flush (hour rollover and exit).  No pandas.
* The schedule is fixed-rate: sample *k* is due at ``start + k * interval`` on a monotonic
  clock, so the time spent reading NVML does not accumulate as drift.  Missed slots (after a
  stall) are skipped, never burst.
* The wait between samples is ``stop_event.wait``; SIGTERM/SIGINT set the event, so a stop is
  prompt and the buffered rows are flushed before returning.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "CollectorError",
    "CollectorStats",
    "JobResolver",
    "GPU_SAMPLES_COLUMNS",
    "GPU_ENERGY_MINUTES_COLUMNS",
    "WRITE_MODES",
    "parse_interval",
    "run_collector",
]

#: Column order of the files written (names and meaning: docs/data-contract.md, gpu_samples).
GPU_SAMPLES_COLUMNS = (
    "ts",
    "host",
    "gpu",
    "power_w",
    "energy_mj",
    "util_pct",
    "mem_used_mib",
    "gpu_uuid",
    "job_id",
)

#: Column order of the per-minute roll-up files (docs/data-contract.md, gpu_energy_minutes).
GPU_ENERGY_MINUTES_COLUMNS = (
    "ts",
    "host",
    "gpu",
    "first_ts",
    "last_ts",
    "first_energy_mj",
    "last_energy_mj",
    "first_power_w",
    "last_power_w",
    "covered_s",
    "samples",
    "min_power_w",
    "max_power_w",
    "mean_power_w",
    "mean_util_pct",
    "counter_resets",
    "gpu_uuid",
    "job_id",
)

#: What a run writes: raw samples (default), per-minute roll-ups only, or both.
WRITE_MODES = ("samples", "minutes", "both")

_MIB = float(2**20)
_SECONDS_PER_HOUR = 3600
_US_PER_MINUTE = 60_000_000


class CollectorError(RuntimeError):
    """A failure that stops the collector (NVML missing, no GPUs, all GPUs lost, write failed).

    ``stats`` holds the :class:`CollectorStats` of the run so far when the error is raised after
    sampling began (rows buffered up to then have been flushed where possible), else ``None``.
    """

    def __init__(self, message: str, stats: CollectorStats | None = None) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass
class CollectorStats:
    """What a run did.  ``samples`` counts samples taken (one per GPU per tick); all of them were
    written as ``gpu_samples`` rows unless the run wrote roll-ups only."""

    samples: int = 0
    #: per-GPU per-minute roll-up rows written (``write="minutes"`` or ``"both"``)
    minute_rows: int = 0
    files: list[Path] = field(default_factory=list)
    #: Joules per GPU index from the NVML energy counter (sum of non-negative deltas between the
    #: first and the last sample); ``None`` for a GPU whose counter is not supported.
    energy_j: dict[int, float | None] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    errors: int = 0
    ticks: int = 0
    host: str = ""
    gpus: list[int] = field(default_factory=list)
    gpu_names: dict[int, str] = field(default_factory=dict)
    gpu_uuids: dict[int, str | None] = field(default_factory=dict)
    lost_gpus: list[int] = field(default_factory=list)
    driver_version: str | None = None

    @property
    def cpu_pct(self) -> float:
        """CPU time of the process over the run, in % of one core."""
        return 100.0 * self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


# --------------------------------------------------------------------------------------------
# --interval parsing
# --------------------------------------------------------------------------------------------

_INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|sec|secs|m|min|h)?\s*$", re.IGNORECASE)
_INTERVAL_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_interval(text: str | float | int) -> float:
    """Parse a sampling interval into seconds: ``"1s"``, ``"500ms"``, ``"2"`` (seconds), ``"1m"``, ``"0.5s"``.

    Raises :class:`ValueError` for anything else or for a non-positive interval.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        m = _INTERVAL_RE.match(str(text))
        if not m:
            raise ValueError(f"invalid interval {text!r}: expected e.g. 1s, 500ms, 2, 1m")
        unit = m.group(2).lower() if m.group(2) else None
        value = float(m.group(1)) * _INTERVAL_UNITS[unit]
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"invalid interval {text!r}: must be a positive, finite duration")
    return value


# --------------------------------------------------------------------------------------------
# job id resolution from /proc
# --------------------------------------------------------------------------------------------

_CGROUP_JOB_RE = re.compile(r"job_(\d+)")
_ENV_KEY = b"SLURM_JOB_ID="


def _read_bytes(path: Path) -> bytes:
    """Read a small /proc file (module-level so tests can simulate permission errors)."""
    with open(path, "rb") as fh:
        return fh.read()


def _job_sort_key(job: str) -> tuple[int, int, str]:
    return (0, int(job), "") if job.isdigit() else (1, 0, job)


class JobResolver:
    """Map process ids to Slurm job ids through ``<proc_root>/<pid>/environ`` and ``.../cgroup``.

    A pid's answer (a job id or ``None``) is cached; :meth:`retain` drops pids no longer seen,
    so a recycled pid is looked up afresh.
    """

    def __init__(self, proc_root: str | os.PathLike[str] = "/proc") -> None:
        self.proc_root = Path(proc_root)
        self._cache: dict[int, str | None] = {}

    def job_of_pid(self, pid: int) -> str | None:
        if pid in self._cache:
            return self._cache[pid]
        job = self._lookup(pid)
        self._cache[pid] = job
        return job

    def _lookup(self, pid: int) -> str | None:
        base = self.proc_root / str(pid)
        # 1) the process environment (readable for our own user's processes, or as root)
        try:
            for entry in _read_bytes(base / "environ").split(b"\0"):
                if entry.startswith(_ENV_KEY):
                    value = entry[len(_ENV_KEY):].decode("ascii", "replace").strip()
                    if value:
                        return value
        except OSError:  # gone, permission denied (another user's process), ...
            pass
        # 2) the slurm cgroup path (world readable): .../job_<id>/step_...
        try:
            text = _read_bytes(base / "cgroup").decode("utf-8", "replace")
        except OSError:
            return None
        for line in text.splitlines():
            m = _CGROUP_JOB_RE.search(line)
            if m:
                return m.group(1)
        return None

    def job_of_pids(self, pids: Iterable[int]) -> str | None:
        """The job ids of ``pids``, de-duplicated, sorted (numerically) and joined with ``,``."""
        jobs = {j for j in (self.job_of_pid(p) for p in pids) if j}
        if not jobs:
            return None
        return ",".join(sorted(jobs, key=_job_sort_key))

    def retain(self, pids: Iterable[int]) -> None:
        keep = set(pids)
        for pid in [p for p in self._cache if p not in keep]:
            del self._cache[pid]

    @property
    def cached_pids(self) -> set[int]:
        return set(self._cache)


# --------------------------------------------------------------------------------------------
# NVML helpers
# --------------------------------------------------------------------------------------------


class _NeverRaised(Exception):
    """Stands in for an NVMLError_* class the given nvml module lacks."""


def _err(nvml: Any, name: str) -> type[BaseException]:
    cls = getattr(nvml, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else _NeverRaised


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _hour_label(hour: int) -> str:
    return datetime.fromtimestamp(hour * _SECONDS_PER_HOUR, tz=timezone.utc).strftime("%Y%m%dT%H")


_SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_host(host: str) -> str:
    return _SAFE_NAME_RE.sub("_", host).strip(".") or "host"


def default_host() -> str:
    """Short host name (``node01`` from ``node01.cluster.example``), as Slurm names nodes."""
    return socket.gethostname().split(".")[0] or "localhost"


class _Gpu:
    __slots__ = (
        "index", "handle", "uuid", "name", "lost", "energy_ok", "util_ok", "mem_ok", "procs_ok",
        "energy_prev", "energy_acc", "energy_seen", "job_id", "logged", "minute",
    )

    def __init__(self, index: int, handle: Any, uuid: str | None, name: str) -> None:
        self.index = index
        self.handle = handle
        self.uuid = uuid
        self.name = name
        self.lost = False
        self.energy_ok = True
        self.util_ok = True
        self.mem_ok = True
        self.procs_ok = True
        self.energy_prev: float | None = None
        self.energy_acc = 0.0
        self.energy_seen = False
        self.job_id: str | None = None
        self.logged: set[str] = set()
        self.minute: _Minute | None = None  # the open roll-up row (write="minutes"/"both")


class _Minute:
    """One GPU's samples within one UTC minute, reduced as they arrive (no list of samples kept)."""

    __slots__ = (
        "minute", "first_us", "last_us", "first_e", "last_e", "prev_e", "first_p", "last_p",
        "min_p", "max_p", "sum_p", "n", "util_sum", "util_n", "resets", "jobs",
    )

    def __init__(self, minute: int, ts_us: int, power_w: float, energy: float | None,
                 util: float | None, job_id: str | None) -> None:
        self.minute = minute
        self.first_us = self.last_us = ts_us
        self.first_e = self.last_e = self.prev_e = energy
        self.first_p = self.last_p = self.min_p = self.max_p = self.sum_p = power_w
        self.n = 1
        self.util_sum = util or 0.0
        self.util_n = 0 if util is None else 1
        self.resets = 0
        self.jobs: set[str] = set(job_id.split(",")) if job_id else set()

    def add(self, ts_us: int, power_w: float, energy: float | None, util: float | None, job_id: str | None) -> None:
        self.last_us = ts_us
        # The row's counter readings are those of its first and last sample: a reading missing at
        # either end leaves the row to the power fallback; missing readings in between do not
        # matter, the counter keeps counting.
        self.last_e = energy
        if energy is not None:
            if self.prev_e is not None and energy < self.prev_e:
                self.resets += 1
            self.prev_e = energy
        self.last_p = power_w
        self.min_p = min(self.min_p, power_w)
        self.max_p = max(self.max_p, power_w)
        self.sum_p += power_w
        self.n += 1
        if util is not None:
            self.util_sum += util
            self.util_n += 1
        if job_id:
            self.jobs.update(job_id.split(","))


class _HourBuffer:
    __slots__ = ("hour", "ts_us", "gpu", "power_w", "energy_mj", "util_pct", "mem_used_mib", "gpu_uuid", "job_id")

    def __init__(self, hour: int) -> None:
        self.hour = hour
        self.ts_us: list[int] = []
        self.gpu: list[int] = []
        self.power_w: list[float] = []
        self.energy_mj: list[float | None] = []
        self.util_pct: list[float | None] = []
        self.mem_used_mib: list[float | None] = []
        self.gpu_uuid: list[str | None] = []
        self.job_id: list[str | None] = []

    def __len__(self) -> int:
        return len(self.ts_us)


class _MinuteBuffer:
    """Closed roll-up rows of one UTC hour (by minute start), written like a sample hour."""

    __slots__ = ("hour", "rows")

    def __init__(self, hour: int) -> None:
        self.hour = hour
        self.rows: list[tuple[int, _Minute, str | None]] = []  # (gpu, row, uuid)

    def __len__(self) -> int:
        return len(self.rows)


# --------------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------------


def make_signal_handler(stop_event: threading.Event) -> Callable[[int, Any], None]:
    """Handler for SIGTERM/SIGINT: the first signal sets ``stop_event`` (flush, then exit); a
    second one while stopping raises :class:`KeyboardInterrupt` to abandon the flush."""

    def _handler(signum: int, frame: Any) -> None:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        if stop_event.is_set():
            logger.warning("collector: second %s while stopping, exiting without waiting", name)
            raise KeyboardInterrupt
        logger.info("collector: %s received, flushing and stopping", name)
        stop_event.set()

    return _handler


def _install_signal_handlers(stop_event: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    handler = make_signal_handler(stop_event)
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # pragma: no cover - unusual embedding
            pass
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        try:
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        except (ValueError, OSError):  # pragma: no cover
            pass


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


class _Writer:
    folder = "gpu_samples"

    def __init__(self, out_dir: Path, host: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._pq = pq
        self.dir = Path(out_dir) / self.folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.file_host = _safe_host(host)
        self.compression = "zstd" if pa.Codec.is_available("zstd") else "snappy"
        self.schema = pa.schema(
            [
                ("ts", pa.timestamp("us")),  # timezone-naive, UTC
                ("host", pa.string()),
                ("gpu", pa.int32()),
                ("power_w", pa.float64()),
                ("energy_mj", pa.float64()),
                ("util_pct", pa.float64()),
                ("mem_used_mib", pa.float64()),
                ("gpu_uuid", pa.string()),
                ("job_id", pa.string()),
            ]
        )

    def write(self, buf: _HourBuffer) -> Path:
        pa = self._pa
        n = len(buf)
        table = pa.Table.from_arrays(
            [
                pa.array(buf.ts_us, pa.int64()).cast(pa.timestamp("us")),
                pa.array([self.host] * n, pa.string()),
                pa.array(buf.gpu, pa.int32()),
                pa.array(buf.power_w, pa.float64()),
                pa.array(buf.energy_mj, pa.float64()),
                pa.array(buf.util_pct, pa.float64()),
                pa.array(buf.mem_used_mib, pa.float64()),
                pa.array(buf.gpu_uuid, pa.string()),
                pa.array(buf.job_id, pa.string()),
            ],
            schema=self.schema,
        )
        return self._write_table(table, buf.hour)

    def _write_table(self, table: Any, hour: int) -> Path:
        base = f"{self.file_host}-{_hour_label(hour)}"
        tmp = self.dir / f".{base}.{os.getpid()}.{threading.get_ident()}.parquet.tmp"
        try:
            self._pq.write_table(table, tmp, compression=self.compression)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            final = self._publish(tmp, base)
        finally:
            if tmp.exists():
                tmp.unlink()
        self._fsync_dir()
        return final

    def _publish(self, tmp: Path, base: str) -> Path:
        """Give ``tmp`` its final name without ever replacing an existing file."""
        n = 0
        while True:
            final = self.dir / (f"{base}.parquet" if n == 0 else f"{base}.{n}.parquet")
            try:
                os.link(tmp, final)  # atomic, fails if the name exists
                return final
            except FileExistsError:
                n += 1
            except OSError:
                # file systems without hard links: check, then rename (a tiny race remains)
                if final.exists():
                    n += 1
                    continue
                os.replace(tmp, final)
                return final

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.dir, os.O_RDONLY)
        except OSError:  # pragma: no cover
            return
        try:
            os.fsync(fd)
        except OSError:  # pragma: no cover
            pass
        finally:
            os.close(fd)


class _MinuteWriter(_Writer):
    """Writes ``gpu_energy_minutes`` files: one per UTC hour, named like the sample files."""

    folder = "gpu_energy_minutes"

    def __init__(self, out_dir: Path, host: str) -> None:
        super().__init__(out_dir, host)
        pa = self._pa
        ts = pa.timestamp("us")  # timezone-naive, UTC
        self.schema = pa.schema(
            [
                ("ts", ts), ("host", pa.string()), ("gpu", pa.int32()), ("first_ts", ts), ("last_ts", ts),
                ("first_energy_mj", pa.float64()), ("last_energy_mj", pa.float64()),
                ("first_power_w", pa.float64()), ("last_power_w", pa.float64()), ("covered_s", pa.float64()),
                ("samples", pa.int32()), ("min_power_w", pa.float64()), ("max_power_w", pa.float64()),
                ("mean_power_w", pa.float64()), ("mean_util_pct", pa.float64()), ("counter_resets", pa.int32()),
                ("gpu_uuid", pa.string()), ("job_id", pa.string()),
            ]
        )
        assert tuple(self.schema.names) == GPU_ENERGY_MINUTES_COLUMNS

    def write(self, buf: _MinuteBuffer) -> Path:  # type: ignore[override]
        pa = self._pa
        rows = sorted(buf.rows, key=lambda r: (r[1].minute, r[0]))
        cols: dict[str, list[Any]] = {name: [] for name in GPU_ENERGY_MINUTES_COLUMNS}
        for gpu, m, uuid in rows:
            counter = m.first_e is not None and m.last_e is not None
            cols["ts"].append(m.minute * _US_PER_MINUTE)
            cols["host"].append(self.host)
            cols["gpu"].append(gpu)
            cols["first_ts"].append(m.first_us)
            cols["last_ts"].append(m.last_us)
            cols["first_energy_mj"].append(m.first_e if counter else None)
            cols["last_energy_mj"].append(m.last_e if counter else None)
            cols["first_power_w"].append(m.first_p)
            cols["last_power_w"].append(m.last_p)
            cols["covered_s"].append((m.last_us - m.first_us) / 1e6)
            cols["samples"].append(m.n)
            cols["min_power_w"].append(m.min_p)
            cols["max_power_w"].append(m.max_p)
            cols["mean_power_w"].append(m.sum_p / m.n)
            cols["mean_util_pct"].append(m.util_sum / m.util_n if m.util_n else None)
            cols["counter_resets"].append(m.resets)
            cols["gpu_uuid"].append(uuid)
            cols["job_id"].append(",".join(sorted(m.jobs, key=_job_sort_key)) if m.jobs else None)
        arrays = []
        for f in self.schema:
            if pa.types.is_timestamp(f.type):
                arrays.append(pa.array(cols[f.name], pa.int64()).cast(f.type))
            else:
                arrays.append(pa.array(cols[f.name], f.type))
        return self._write_table(pa.Table.from_arrays(arrays, schema=self.schema), buf.hour)


# --------------------------------------------------------------------------------------------
# the collector
# --------------------------------------------------------------------------------------------


def run_collector(
    out_dir: Path,
    interval_s: float = 1.0,
    duration_s: float | None = None,
    host: str | None = None,
    stop_event: threading.Event | None = None,
    nvml: Any = None,
    *,
    clock: Callable[[], float] | None = None,
    wait: Callable[[float], bool] | None = None,
    proc_root: str | os.PathLike[str] = "/proc",
    job_refresh_s: float = 10.0,
    progress_every_s: float = 300.0,
    install_signal_handlers: bool = True,
    write: str = "samples",
) -> CollectorStats:
    """Sample every GPU until ``duration_s`` has passed, ``stop_event`` is set, or SIGTERM/SIGINT.

    Parameters
    ----------
    out_dir: files go to ``out_dir/gpu_samples/<host>-YYYYMMDDTHH[.N].parquet`` (one per UTC hour).
    interval_s: sampling period in seconds (see :func:`parse_interval`).
    duration_s: stop after this many seconds (samples are taken at ``k * interval_s < duration_s``);
        ``None`` runs until stopped.
    host: value of the ``host`` column and file prefix; default: the short host name.
    stop_event: set it (from any thread) to stop; the collector flushes and returns.
    nvml: module-like NVML binding; default ``pynvml`` (package ``nvidia-ml-py``).
    clock: for tests, a function returning UTC epoch seconds used for both the timestamps and
        the schedule (default: ``time.time`` for timestamps, ``time.monotonic`` for the schedule).
    wait: for tests, ``wait(seconds) -> stop requested`` (default: ``stop_event.wait``).
    proc_root: where ``<pid>/environ`` and ``<pid>/cgroup`` are read for job ids.
    job_refresh_s: how often each GPU's process list is re-read for ``job_id`` (0: every sample).
    progress_every_s: period of the progress log line.
    install_signal_handlers: install SIGTERM/SIGINT handlers (only done in the main thread).
    write: ``"samples"`` (``gpu_samples`` files), ``"minutes"`` (``gpu_energy_minutes`` files only:
        one row per GPU and UTC minute) or ``"both"``.

    Raises :class:`CollectorError` when NVML cannot start, no GPU is usable, every GPU was lost,
    or rows could not be written.
    """
    interval_s = parse_interval(interval_s)
    if write not in WRITE_MODES:
        raise ValueError(f"write must be one of {', '.join(WRITE_MODES)}, not {write!r}")
    if duration_s is not None and duration_s < 0:
        raise ValueError("duration_s must be >= 0")
    stop_event = stop_event if stop_event is not None else threading.Event()
    wait_fn = wait if wait is not None else stop_event.wait
    wall = clock if clock is not None else time.time
    mono = clock if clock is not None else time.monotonic
    host = host or default_host()

    if nvml is None:
        try:
            import pynvml as nvml  # type: ignore[no-redef]
        except ImportError as exc:
            raise CollectorError(
                "NVIDIA driver/NVML not available: the nvidia-ml-py package is not installed "
                "(pip install nvidia-ml-py)"
            ) from exc

    nvml_error = _err(nvml, "NVMLError")
    not_available = (_err(nvml, "NVMLError_LibraryNotFound"), _err(nvml, "NVMLError_DriverNotLoaded"))
    try:
        nvml.nvmlInit()
    except not_available as exc:
        raise CollectorError(f"NVIDIA driver/NVML not available: {exc}") from exc
    except nvml_error as exc:
        raise CollectorError(f"NVIDIA driver/NVML not available: NVML initialisation failed: {exc}") from exc
    except OSError as exc:  # e.g. a broken libnvidia-ml.so
        raise CollectorError(f"NVIDIA driver/NVML not available: {exc}") from exc

    stats = CollectorStats(host=host)
    previous_handlers: dict[int, Any] = {}
    cpu0 = time.process_time()
    mono0 = mono()
    try:
        try:
            writer = _Writer(Path(out_dir), host) if write != "minutes" else None
            minute_writer = _MinuteWriter(Path(out_dir), host) if write != "samples" else None
        except OSError as exc:
            raise CollectorError(f"cannot create the output folder under {out_dir}: {exc}", stats) from exc
        gpus = _open_gpus(nvml, stats)
        if not gpus:
            raise CollectorError("NVML reports no usable GPU on this host", stats)
        if install_signal_handlers:
            previous_handlers = _install_signal_handlers(stop_event)
        logger.info(
            "collector: sampling %d GPU(s) on %s every %gs (driver %s) into %s",
            len(gpus), host, interval_s, stats.driver_version,
            " and ".join(str(w.dir) for w in (writer, minute_writer) if w is not None),
        )
        loop = _Loop(nvml, gpus, writer, stats, JobResolver(proc_root), job_refresh_s, minute_writer)
        try:
            loop.run(
                interval_s=interval_s,
                duration_s=duration_s,
                stop_event=stop_event,
                wait_fn=wait_fn,
                wall=wall,
                mono=mono,
                progress_every_s=progress_every_s,
            )
        finally:
            for g in gpus:
                stats.energy_j[g.index] = g.energy_acc / 1000.0 if g.energy_ok and g.energy_seen else None
            stats.lost_gpus = sorted(g.index for g in gpus if g.lost)
            loop.close_minutes(None)  # the last, partial minute of every GPU is a row too
            loop.flush_all()  # raises CollectorError if rows could not be written
        if gpus and all(g.lost for g in gpus):
            raise CollectorError("all GPUs were lost; stopping", stats)
        logger.info(
            "collector: stopped after %d samples (%d ticks), %d minute row(s), %d file(s), %d error(s)",
            stats.samples, stats.ticks, stats.minute_rows, len(stats.files), stats.errors,
        )
        return stats
    finally:
        stats.cpu_seconds = time.process_time() - cpu0
        stats.wall_seconds = mono() - mono0
        _restore_signal_handlers(previous_handlers)
        try:
            nvml.nvmlShutdown()
        except Exception as exc:  # never mask the real outcome
            logger.warning("collector: nvmlShutdown failed: %s", exc)


def _open_gpus(nvml: Any, stats: CollectorStats) -> list[_Gpu]:
    nvml_error = _err(nvml, "NVMLError")
    try:
        stats.driver_version = _text(nvml.nvmlSystemGetDriverVersion())
    except (nvml_error, AttributeError):
        stats.driver_version = None
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except nvml_error as exc:
        raise CollectorError(f"NVML could not count GPUs: {exc}", stats) from exc
    gpus: list[_Gpu] = []
    for i in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
        except nvml_error as exc:
            logger.error("collector: GPU %d not usable, skipped: %s", i, exc)
            stats.errors += 1
            continue
        try:
            uuid: str | None = _text(nvml.nvmlDeviceGetUUID(handle))
        except nvml_error:
            uuid = None
        try:
            name = _text(nvml.nvmlDeviceGetName(handle))
        except nvml_error:
            name = "unknown"
        gpus.append(_Gpu(i, handle, uuid, name))
        stats.gpus.append(i)
        stats.gpu_names[i] = name
        stats.gpu_uuids[i] = uuid
    return gpus


class _Loop:
    def __init__(
        self,
        nvml: Any,
        gpus: list[_Gpu],
        writer: _Writer | None,
        stats: CollectorStats,
        resolver: JobResolver,
        job_refresh_s: float,
        minute_writer: _MinuteWriter | None = None,
    ) -> None:
        self.nvml = nvml
        self.gpus = gpus
        self.writer = writer
        self.minute_writer = minute_writer
        self.pending_minutes: dict[int, _MinuteBuffer] = {}
        self.stats = stats
        self.resolver = resolver
        self.job_refresh_s = max(0.0, float(job_refresh_s))
        self.next_job_refresh: float | None = None
        self.pending: dict[int, _HourBuffer] = {}
        self.current: _HourBuffer | None = None
        self.nvml_error = _err(nvml, "NVMLError")
        self.gpu_lost = _err(nvml, "NVMLError_GpuIsLost")
        self.not_supported = _err(nvml, "NVMLError_NotSupported")
        self.no_permission = _err(nvml, "NVMLError_NoPermission")

    # ---- schedule -------------------------------------------------------------------------
    def run(
        self,
        *,
        interval_s: float,
        duration_s: float | None,
        stop_event: threading.Event,
        wait_fn: Callable[[float], bool],
        wall: Callable[[], float],
        mono: Callable[[], float],
        progress_every_s: float,
    ) -> None:
        start = mono()
        next_progress = start + progress_every_s if progress_every_s > 0 else float("inf")
        k = 0
        while not stop_event.is_set():
            self.tick(wall(), mono())
            if all(g.lost for g in self.gpus):
                logger.error("collector: every GPU is lost, stopping")
                return
            k += 1
            now = mono()
            due = start + k * interval_s
            if due <= now:  # overran one or more slots: skip them rather than burst
                k = int((now - start) // interval_s) + 1
                due = start + k * interval_s
            if duration_s is not None and k * interval_s >= duration_s - 1e-9:
                return
            if now >= next_progress:
                logger.info(
                    "collector: %d samples, %d file(s) written, %d error(s) so far",
                    self.stats.samples, len(self.stats.files), self.stats.errors,
                )
                while next_progress <= now:
                    next_progress += progress_every_s
            if wait_fn(due - now):
                return

    # ---- one sampling instant -------------------------------------------------------------
    def tick(self, ts: float, now: float) -> None:
        hour = int(ts // _SECONDS_PER_HOUR)
        ts_us = int(round(ts * 1e6))
        minute = ts_us // _US_PER_MINUTE
        if self.minute_writer is not None:
            # Close every GPU's row of an earlier minute before a rollover flush, so an hour's
            # roll-up file holds all its minutes (a lost GPU's last row is closed here too).
            self.close_minutes(minute)
        buf = self.current
        if buf is None or buf.hour != hour:
            buf = self.pending.get(hour)
            if buf is None:
                buf = self.pending[hour] = _HourBuffer(hour)
            self.current = buf
            self.flush_all(keep=hour)  # hour rollover: write the finished hour(s)
        if self.next_job_refresh is None or now >= self.next_job_refresh:
            self.refresh_jobs()
            self.next_job_refresh = now + self.job_refresh_s
        nvml = self.nvml
        raw = self.writer is not None
        rollup = self.minute_writer is not None
        samples = 0
        for g in self.gpus:
            if g.lost:
                continue
            h = g.handle
            try:
                power_w = nvml.nvmlDeviceGetPowerUsage(h) / 1000.0
            except self.gpu_lost:
                self._lose(g)
                continue
            except self.nvml_error as exc:
                self._count(g, "power", exc)
                continue
            energy = None
            if g.energy_ok:
                try:
                    energy = float(nvml.nvmlDeviceGetTotalEnergyConsumption(h))
                except self.not_supported:
                    g.energy_ok = False
                    logger.info("collector: GPU %d has no energy counter; energy_mj is NULL", g.index)
                except self.gpu_lost:
                    self._lose(g)
                    continue
                except self.nvml_error as exc:
                    self._count(g, "energy", exc)
                else:
                    prev = g.energy_prev
                    if prev is not None:
                        if energy >= prev:
                            g.energy_acc += energy - prev
                        else:
                            logger.warning("collector: GPU %d energy counter went backwards (reset?)", g.index)
                    g.energy_prev = energy
                    g.energy_seen = True
            util = None
            if g.util_ok:
                try:
                    util = float(nvml.nvmlDeviceGetUtilizationRates(h).gpu)
                except self.not_supported:
                    g.util_ok = False
                except self.gpu_lost:
                    self._lose(g)
                    continue
                except self.nvml_error as exc:
                    self._count(g, "util", exc)
            mem = None
            if g.mem_ok:
                try:
                    mem = nvml.nvmlDeviceGetMemoryInfo(h).used / _MIB
                except self.not_supported:
                    g.mem_ok = False
                except self.gpu_lost:
                    self._lose(g)
                    continue
                except self.nvml_error as exc:
                    self._count(g, "memory", exc)
            if raw:
                buf.ts_us.append(ts_us)
                buf.gpu.append(g.index)
                buf.power_w.append(power_w)
                buf.energy_mj.append(energy)
                buf.util_pct.append(util)
                buf.mem_used_mib.append(mem)
                buf.gpu_uuid.append(g.uuid)
                buf.job_id.append(g.job_id)
            if rollup:
                if g.minute is None:
                    g.minute = _Minute(minute, ts_us, power_w, energy, util, g.job_id)
                else:
                    g.minute.add(ts_us, power_w, energy, util, g.job_id)
            samples += 1
        self.stats.samples += samples
        self.stats.ticks += 1

    def refresh_jobs(self) -> None:
        seen: set[int] = set()
        for g in self.gpus:
            if g.lost or not g.procs_ok:
                continue
            try:
                procs = self.nvml.nvmlDeviceGetComputeRunningProcesses(g.handle)
            except (self.not_supported, self.no_permission) as exc:
                g.procs_ok = False
                g.job_id = None
                logger.info("collector: GPU %d process list unavailable (%s); job_id is NULL", g.index, exc)
                continue
            except self.gpu_lost:
                self._lose(g)
                continue
            except self.nvml_error as exc:
                self._count(g, "processes", exc)
                g.job_id = None
                continue
            pids = [int(p.pid) for p in procs]
            seen.update(pids)
            g.job_id = self.resolver.job_of_pids(pids)
        self.resolver.retain(seen)

    def _lose(self, g: _Gpu) -> None:
        g.lost = True
        self.stats.errors += 1
        logger.error("collector: GPU %d (%s) is lost; it is skipped from now on", g.index, g.uuid)

    def _count(self, g: _Gpu, what: str, exc: BaseException) -> None:
        self.stats.errors += 1
        if what not in g.logged:  # log the first failure of each kind per GPU, count all
            g.logged.add(what)
            logger.warning("collector: GPU %d %s read failed (%s); further failures are only counted", g.index, what, exc)

    # ---- flushing -------------------------------------------------------------------------
    def close_minutes(self, minute: int | None) -> None:
        """Move every GPU's open roll-up row of a minute other than ``minute`` (None: all) to its hour."""
        for g in self.gpus:
            m = g.minute
            if m is None or m.minute == minute:
                continue
            hour = m.minute * 60 // _SECONDS_PER_HOUR
            mbuf = self.pending_minutes.get(hour)
            if mbuf is None:
                mbuf = self.pending_minutes[hour] = _MinuteBuffer(hour)
            mbuf.rows.append((g.index, m, g.uuid))
            g.minute = None

    def flush_all(self, keep: int | None = None) -> None:
        """Write every pending hour except ``keep``; failed hours stay buffered for a retry."""
        failed: list[str] = []
        for hour in sorted(self.pending_minutes):
            if hour == keep:
                continue
            mbuf = self.pending_minutes[hour]
            assert self.minute_writer is not None
            try:
                path = self.minute_writer.write(mbuf)
            except Exception as exc:
                self.stats.errors += 1
                logger.error("collector: writing %d minute rows for hour %s failed: %s", len(mbuf), _hour_label(hour), exc)
                failed.append(f"gpu_energy_minutes {_hour_label(hour)}: {exc}")
                continue
            self.stats.files.append(path)
            self.stats.minute_rows += len(mbuf)
            del self.pending_minutes[hour]
        for hour in sorted(self.pending):
            if hour == keep:
                continue
            buf = self.pending[hour]
            if len(buf):
                assert self.writer is not None
                try:
                    path = self.writer.write(buf)
                except Exception as exc:
                    self.stats.errors += 1
                    logger.error("collector: writing %d rows for hour %s failed: %s", len(buf), _hour_label(hour), exc)
                    failed.append(f"gpu_samples {_hour_label(hour)}: {exc}")
                    continue
                self.stats.files.append(path)
                logger.debug("collector: wrote %d rows to %s", len(buf), path)
            del self.pending[hour]
            if self.current is buf:
                self.current = None
        if failed and keep is None:
            raise CollectorError("could not write " + "; ".join(failed), self.stats)
