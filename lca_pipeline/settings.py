"""Settings from `lca.toml`: every key, its default, and validation with clear messages.

The keys are documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STAGES = ("data", "experimentation", "training", "post_training", "evaluation", "inference", "other")
JOB_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "PREEMPTED", "RUNNING")


# [uncertainty]: Monte Carlo draws and seed, and the documented half-ranges (relative, 0.1 = +-10 %)
# the inputs are drawn from (docs/methodology.md section 8). (lo, hi) bounds for validation.
UNCERTAINTY_DEFAULTS: dict[str, float] = {
    "draws": 1000, "seed": 14, "pue_rel": 0.10, "grid_rel": 0.15, "measured_sample_rel": 0.02,
    "measured_job_rel": 0.10, "estimated_rel": 0.30, "lifetime_rel": 0.25, "lifetime_requests_rel": 0.50,
}
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
    # [allocation]
    shared_infra: str = "allocate"
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
    # importer options, passed through untouched
    importers: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"

    def digest(self) -> str:
        """Hash of every setting, for audit.runs and the manifest."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_json(self) -> str:
        """Every setting as canonical JSON (sorted keys), for audit.runs and the run manifest."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "source"}, sort_keys=True, default=str)

    def sql_params(self) -> dict[str, Any]:
        """Settings as bound SQL parameters."""
        keys = sorted(self.stage_map)
        return {
            "max_gap_s": float(self.max_gap_s),
            "max_gpu_power_w": float(self.max_gpu_power_w),
            "max_node_power_w": float(self.max_node_power_w),
            "shared_infra": self.shared_infra,
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
    ("embodied", "policy"): ("calendar", "expected_utilisation", "measured"),
    ("lifecycle", "idle_allocation"): ("none", "pro_rata"),
    ("grid", "basis"): ("direct", "lifecycle"),
    ("grid", "kind"): ("average", "marginal"),
    ("market", "matching"): ("hourly", "monthly", "annual"),
}
_KNOWN = {
    "telemetry": {"max_gap_s", "max_gpu_power_w", "max_node_power_w"},
    "allocation": {"shared_infra"},
    "embodied": {"policy", "expected_utilisation", "hours_per_year"},
    "lifecycle": {"idle_allocation", "upfront_stages"},
    "grid": {"basis", "kind", "interpolate_max_h"},
    "estimate": {"default_utilisation"},
    "stages": {"map"},
    "market": {"matching"},
    "uncertainty": set(UNCERTAINTY_DEFAULTS),
}
# Importer options (docs/importers.md) are passed to the importers untouched.
_IMPORTER_SECTIONS = {
    "import", "importers", "sacct", "codecarbon", "dcgm", "nvidia-smi", "nvidia_smi", "nvidia-smi-q",
    "nvidia_smi_q", "electricitymaps", "boavizta-pcf", "boavizta_pcf", "vllm",
}


def load_settings(path: Path | None) -> Settings:
    """Read lca.toml; a missing file gives the defaults."""
    if path is None or not Path(path).is_file():
        return Settings()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    for section, body in raw.items():
        if section in _IMPORTER_SECTIONS:
            continue
        if section not in _KNOWN:
            raise SettingsError(f"{path}: unknown section [{section}]; known: {sorted(_KNOWN)}")
        if not isinstance(body, dict):
            raise SettingsError(f"{path}: [{section}] must be a table")
        for key in body:
            if key not in _KNOWN[section]:
                raise SettingsError(
                    f"{path}: unknown key [{section}] {key}; known: {sorted(_KNOWN[section])}"
                )
    for (section, key), choices in _CHOICES.items():
        value = raw.get(section, {}).get(key)
        if value is not None and value not in choices:
            raise SettingsError(f"{path}: [{section}] {key} = {value!r}; choose one of {choices}")

    def num(section: str, key: str, default: float, lo: float, hi: float) -> float:
        value = raw.get(section, {}).get(key, default)
        if value is None:
            return default
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise SettingsError(f"{path}: [{section}] {key} = {value!r}; expected a number in [{lo}, {hi}]")
        return float(value)

    stage_map = raw.get("stages", {}).get("map", {})
    if not isinstance(stage_map, dict):
        raise SettingsError(f"{path}: [stages] map must be an inline table, e.g. map = {{ pretrain = \"training\" }}")
    for label, target in stage_map.items():
        if target not in STAGES:
            raise SettingsError(
                f"{path}: [stages] map maps {label!r} to {target!r}, which is not a stage; use one of {STAGES}"
            )
    upfront = raw.get("lifecycle", {}).get("upfront_stages", ["experimentation", "training", "post_training"])
    if not isinstance(upfront, list) or not upfront or any(s not in STAGES or s == "inference" for s in upfront):
        raise SettingsError(
            f"{path}: [lifecycle] upfront_stages = {upfront!r}; give a list of stages other than inference, "
            f"from {STAGES}"
        )
    default_util = raw.get("estimate", {}).get("default_utilisation")
    return Settings(
        max_gap_s=num("telemetry", "max_gap_s", 300.0, 0.001, 86400.0),
        max_gpu_power_w=num("telemetry", "max_gpu_power_w", 3000.0, 1.0, 1e6),
        max_node_power_w=num("telemetry", "max_node_power_w", 20000.0, 1.0, 1e7),
        shared_infra=raw.get("allocation", {}).get("shared_infra", "allocate"),
        embodied_policy=raw.get("embodied", {}).get("policy", "calendar"),
        expected_utilisation=num("embodied", "expected_utilisation", 0.85, 0.01, 1.0),
        hours_per_year=num("embodied", "hours_per_year", 8760.0, 8760.0, 8784.0),
        idle_allocation=raw.get("lifecycle", {}).get("idle_allocation", "none"),
        upfront_stages=tuple(upfront),
        grid_basis=raw.get("grid", {}).get("basis", "lifecycle"),
        grid_kind=raw.get("grid", {}).get("kind", "average"),
        grid_interpolate_max_h=int(num("grid", "interpolate_max_h", 3, 0, 168)),
        default_utilisation=None if default_util is None else num("estimate", "default_utilisation", 0.0, 0.0, 1.0),
        stage_map={str(k): str(v) for k, v in stage_map.items()},
        market_matching=raw.get("market", {}).get("matching", "hourly"),
        uncertainty={
            k: num("uncertainty", k, d, *_UNCERTAINTY_BOUNDS.get(k, (0.0, 0.99))) for k, d in UNCERTAINTY_DEFAULTS.items()
        },
        importers={k: v for k, v in raw.items() if k in _IMPORTER_SECTIONS},
        source=str(path),
    )
