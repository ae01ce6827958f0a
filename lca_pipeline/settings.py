"""Settings from `lca.toml`: every key, its default, and validation with clear messages.

The keys are documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .contract import JOB_STATES, STAGES


# [uncertainty]: Monte Carlo draws and seed, and the documented half-ranges (relative, 0.1 = +-10 %)
# the inputs are drawn from (docs/methodology.md section 8). (lo, hi) bounds for validation.
UNCERTAINTY_DEFAULTS: dict[str, float] = {
    "draws": 1000, "seed": 14, "pue_rel": 0.10, "grid_rel": 0.15, "measured_sample_rel": 0.02,
    "measured_job_rel": 0.10, "estimated_rel": 0.30, "lifetime_rel": 0.25, "lifetime_requests_rel": 0.50,
}
_INTEGER_KEYS = ("draws", "seed")  # counts, never 2.5
_UNCERTAINTY_BOUNDS: dict[str, tuple[float, float]] = {
    "draws": (10, 100000), "seed": (0, 2**31 - 1), "lifetime_requests_rel": (0.0, 0.99),
    "lifetime_rel": (0.0, 0.9),
}


class SettingsError(ValueError):
    """A bad lca.toml: the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Settings:
    # [telemetry]
    max_gap_s: float = 300.0
    max_gpu_power_w: float = 3000.0
    max_node_power_w: float = 20000.0
    # How the hourly energy step splits its work (not its results): a site's consecutive days share a
    # slice while their staged samples add up to no more than this (assets/slices.py).
    slice_samples: int = 30_000_000
    # [allocation]
    shared_infra: str = "allocate"
    gpu_sharing: str = "quarantine"
    # [embodied]
    embodied_policy: str = "calendar"
    expected_utilisation: float = 0.85
    hours_per_year: float = 8760.0
    # [lifecycle]
    idle_allocation: str = "none"
    upfront_stages: tuple[str, ...] = ("experimentation", "training", "post_training")
    # [grid]
    grid_basis: str = "lifecycle"
    grid_kind: str = "average"
    grid_interpolate_max_h: int = 3
    # [estimate]
    default_utilisation: float | None = None
    # [market] and [uncertainty] (issue 14)
    market_matching: str = "hourly"
    uncertainty: dict[str, float] = field(default_factory=lambda: dict(UNCERTAINTY_DEFAULTS))
    # [stages]
    stage_map: dict[str, str] = field(default_factory=dict)
    # [data]: the plausibility window of every dated input row; None for the end means tomorrow (UTC)
    window_start: str = "2010-01-01"
    window_end: str | None = None
    accept_cascades: bool = False
    # [publish]: published versions kept for auditors, and when `lca status` calls the data stale
    keep_versions: int = 5
    stale_after_hours: float = 36.0
    # importer options, passed through untouched
    importers: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"

    def digest(self) -> str:
        """Hash of every setting, for audit.runs and the manifest."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_json(self) -> str:
        """Every setting as canonical JSON (sorted keys), for audit.runs and the run manifest."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "source"}, sort_keys=True, default=str)

    def data_window(self) -> tuple[datetime, datetime]:
        """[window_start, window_end) as naive UTC datetimes; the open end is tomorrow's midnight (UTC)."""
        start = datetime.fromisoformat(self.window_start)
        if self.window_end is None:
            end = datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=1), datetime.min.time())
        else:
            end = datetime.fromisoformat(self.window_end)
        return start, end

    def sql_params(self) -> dict[str, Any]:
        """Settings as bound SQL parameters."""
        keys = sorted(self.stage_map)
        data_start, data_end = self.data_window()
        return {
            "data_start": data_start,
            "data_end": data_end,
            "data_window": f"[{data_start.date().isoformat()}, {data_end.date().isoformat()})",
            "accept_cascades": bool(self.accept_cascades),
            "max_gap_s": float(self.max_gap_s),
            "max_gpu_power_w": float(self.max_gpu_power_w),
            "max_node_power_w": float(self.max_node_power_w),
            "shared_infra": self.shared_infra,
            "gpu_sharing": self.gpu_sharing,
            "embodied_policy": self.embodied_policy,
            "expected_utilisation": float(self.expected_utilisation),
            "hours_per_year": float(self.hours_per_year),
            "idle_allocation": self.idle_allocation,
            "upfront_stages": list(self.upfront_stages),
            "grid_basis": self.grid_basis,
            "grid_kind": self.grid_kind,
            "grid_interpolate_max_h": int(self.grid_interpolate_max_h),
            "stage_map_from": [k.strip().lower() for k in keys] or [""],
            "stage_map_to": [self.stage_map[k] for k in keys] or [""],
            "default_utilisation": self.default_utilisation,
            "stages": list(STAGES),
            "job_states": list(JOB_STATES),
            "market_matching": self.market_matching,
            **{f"u_{k}": float(v) for k, v in self.uncertainty.items()},
        }


_CHOICES = {
    ("allocation", "shared_infra"): ("allocate", "separate"),
    ("allocation", "gpu_sharing"): ("quarantine", "split"),
    ("embodied", "policy"): ("calendar", "expected_utilisation", "measured"),
    ("lifecycle", "idle_allocation"): ("none", "pro_rata"),
    ("grid", "basis"): ("direct", "lifecycle"),
    ("grid", "kind"): ("average", "marginal"),
    ("market", "matching"): ("hourly", "monthly", "annual"),
}
_KNOWN = {
    "telemetry": {"max_gap_s", "max_gpu_power_w", "max_node_power_w", "slice_samples"},
    "allocation": {"shared_infra", "gpu_sharing"},
    "embodied": {"policy", "expected_utilisation", "hours_per_year"},
    "lifecycle": {"idle_allocation", "upfront_stages"},
    "grid": {"basis", "kind", "interpolate_max_h"},
    "estimate": {"default_utilisation"},
    "stages": {"map"},
    "data": {"window_start", "window_end", "accept_cascades"},
    "market": {"matching"},
    "uncertainty": set(UNCERTAINTY_DEFAULTS),
    "publish": {"keep_versions", "stale_after_hours"},
}
# Importer options (docs/importers.md) are passed to the importers untouched.
_IMPORTER_SECTIONS = {
    "import", "importers", "sacct", "codecarbon", "dcgm", "nvidia-smi", "nvidia_smi", "nvidia-smi-q",
    "nvidia_smi_q", "electricitymaps", "boavizta-pcf", "boavizta_pcf", "vllm",
}


def load_settings(path: Path | None) -> Settings:
    """Read lca.toml; a missing file gives the defaults. Every value is checked for type and range."""
    if path is None or not Path(path).is_file():
        return Settings()
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"{path}: not UTF-8 text (byte {exc.start}); lca.toml must be a UTF-8 TOML file"
        ) from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    for section, body in raw.items():
        if section in _IMPORTER_SECTIONS:
            continue
        if section not in _KNOWN:
            raise SettingsError(
                f"{path}: unknown section [{section}]; known: {sorted(_KNOWN)} and the importer sections "
                f"{sorted(_IMPORTER_SECTIONS)}"
            )
        if not isinstance(body, dict):
            raise SettingsError(f"{path}: [{section}] must be a table")
        for key in body:
            if key not in _KNOWN[section]:
                raise SettingsError(
                    f"{path}: unknown key [{section}] {key}; known: {sorted(_KNOWN[section])}"
                )
    for (section, key), choices in _CHOICES.items():
        value = raw.get(section, {}).get(key)
        if value is not None and (not isinstance(value, str) or value not in choices):
            raise SettingsError(f"{path}: [{section}] {key} = {value!r}; choose one of {choices}")

    def num(section: str, key: str, default: float, lo: float, hi: float) -> float:
        value = raw.get(section, {}).get(key, default)
        # bool is an int in Python; `true` is never a number of seconds.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not lo <= value <= hi:
            raise SettingsError(f"{path}: [{section}] {key} = {value!r}; expected a number in [{lo}, {hi}]")
        return float(value)

    def integer(section: str, key: str, default: int, lo: int, hi: int) -> int:
        value = raw.get(section, {}).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise SettingsError(f"{path}: [{section}] {key} = {value!r}; expected a whole number in [{lo}, {hi}]")
        return value

    def day(key: str, default: str | None) -> str | None:
        value = raw.get("data", {}).get(key, default)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise SettingsError(f"{path}: [data] {key} = {value!r}; expected a date such as 2010-01-01")

    stage_map = raw.get("stages", {}).get("map", {})
    if not isinstance(stage_map, dict):
        raise SettingsError(f"{path}: [stages] map must be an inline table, e.g. map = {{ pretrain = \"training\" }}")
    for label, target in stage_map.items():
        if not isinstance(target, str) or target not in STAGES:
            raise SettingsError(
                f"{path}: [stages] map maps {label!r} to {target!r}, which is not a stage; use one of {STAGES}"
            )
    upfront = raw.get("lifecycle", {}).get("upfront_stages", ["experimentation", "training", "post_training"])
    if not isinstance(upfront, list) or not upfront or any(
            not isinstance(s, str) or s not in STAGES or s == "inference" for s in upfront):
        raise SettingsError(
            f"{path}: [lifecycle] upfront_stages = {upfront!r}; give a list of stages other than inference, "
            f"from {STAGES}"
        )
    default_util = raw.get("estimate", {}).get("default_utilisation")
    window_start = day("window_start", "2010-01-01")
    window_end = day("window_end", None)
    if window_end is not None and window_end <= window_start:
        raise SettingsError(f"{path}: [data] window_end = {window_end} is not after window_start = {window_start}")
    accept = raw.get("data", {}).get("accept_cascades", False)
    if not isinstance(accept, bool):
        raise SettingsError(f"{path}: [data] accept_cascades = {accept!r}; expected true or false")
    importers = {k: v for k, v in raw.items() if k in _IMPORTER_SECTIONS}
    if importers:
        from .importers import ImporterError, validate_options  # late: importers pull in DuckDB helpers

        try:
            validate_options(importers)
        except ImporterError as exc:
            raise SettingsError(f"{path}: {exc}") from exc
    return Settings(
        max_gap_s=num("telemetry", "max_gap_s", 300.0, 0.001, 86400.0),
        max_gpu_power_w=num("telemetry", "max_gpu_power_w", 3000.0, 1.0, 1e6),
        max_node_power_w=num("telemetry", "max_node_power_w", 20000.0, 1.0, 1e7),
        slice_samples=integer("telemetry", "slice_samples", 30_000_000, 0, 10**12),
        shared_infra=raw.get("allocation", {}).get("shared_infra", "allocate"),
        gpu_sharing=raw.get("allocation", {}).get("gpu_sharing", "quarantine"),
        embodied_policy=raw.get("embodied", {}).get("policy", "calendar"),
        expected_utilisation=num("embodied", "expected_utilisation", 0.85, 0.01, 1.0),
        hours_per_year=num("embodied", "hours_per_year", 8760.0, 8760.0, 8784.0),
        idle_allocation=raw.get("lifecycle", {}).get("idle_allocation", "none"),
        upfront_stages=tuple(upfront),
        grid_basis=raw.get("grid", {}).get("basis", "lifecycle"),
        grid_kind=raw.get("grid", {}).get("kind", "average"),
        grid_interpolate_max_h=integer("grid", "interpolate_max_h", 3, 0, 168),
        default_utilisation=None if default_util is None else num("estimate", "default_utilisation", 0.0, 0.0, 1.0),
        stage_map={str(k): str(v) for k, v in stage_map.items()},
        window_start=window_start,
        window_end=window_end,
        accept_cascades=accept,
        importers=importers,
        keep_versions=integer("publish", "keep_versions", 5, 1, 1000),
        stale_after_hours=num("publish", "stale_after_hours", 36.0, 0.01, 24 * 366),
        market_matching=raw.get("market", {}).get("matching", "hourly"),
        uncertainty={
            k: (integer("uncertainty", k, int(d), *map(int, _UNCERTAINTY_BOUNDS[k])) if k in _INTEGER_KEYS
                else num("uncertainty", k, d, *_UNCERTAINTY_BOUNDS.get(k, (0.0, 0.99))))
            for k, d in UNCERTAINTY_DEFAULTS.items()
        },
        source=str(path),
    )
