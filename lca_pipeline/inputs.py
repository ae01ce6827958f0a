"""The input contract in code: which inputs exist and which of their columns are required.

docs/data-contract.md is the human-readable form of the same contract (types, units, meaning);
the staging SQL in sql/staging/ does the typing and row checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .contract import PROVENANCE


@dataclass(frozen=True)
class InputSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Telemetry is partitioned by the UTC day of this column; other inputs are small and replaced whole.
    partition_column: str | None = None
    deps: tuple[str, ...] = ()
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional + PROVENANCE

    @property
    def partitioned(self) -> bool:
        return self.partition_column is not None


INPUTS: dict[str, InputSpec] = {
    spec.name: spec
    for spec in (
        InputSpec(
            "sites",
            ("site", "zone", "pue"),
            ("wue_l_per_kwh", "ewif_l_per_kwh", "valid_from", "valid_to"),
            description="Sites with their grid zone, PUE and water factors, staged from the sites input.",
        ),
        InputSpec(
            "hosts",
            ("host", "site", "role"),
            ("gpu_count", "gpu_model"),
            deps=("sites",),
            description="Hosts with site, role and GPU inventory, staged from the hosts input.",
        ),
        InputSpec(
            "gpu_samples",
            ("ts", "host", "gpu", "power_w"),
            ("energy_mj", "util_pct", "mem_used_mib", "gpu_uuid", "job_id"),
            partition_column="ts",
            deps=("hosts",),
            description="GPU telemetry samples (power in W, NVML energy counter in kWh), staged per UTC day.",
        ),
        InputSpec(
            "gpu_energy_minutes",
            ("ts", "host", "gpu", "first_ts", "last_ts", "samples", "mean_power_w"),
            ("first_energy_mj", "last_energy_mj", "first_power_w", "last_power_w", "covered_s", "min_power_w",
             "max_power_w", "mean_util_pct", "counter_resets", "gpu_uuid", "job_id"),
            partition_column="ts",
            deps=("hosts",),
            description="GPU telemetry rolled up per GPU and UTC minute (first/last NVML counter reading), "
                        "staged per UTC day.",
        ),
        InputSpec(
            "node_samples",
            ("ts", "host", "component", "power_w"),
            partition_column="ts",
            deps=("hosts",),
            description="Non-GPU host power samples (cpu, dram, other, node) in W, staged per UTC day.",
        ),
        InputSpec(
            "jobs",
            ("job_id", "model", "stage", "state", "start", "end"),
            (
                "project", "user", "energy_kwh", "site", "device_model", "device_count", "avg_power_w",
                "cpu_energy_kwh", "gpu_energy_kwh", "ram_energy_kwh", "codecarbon_emissions_kg",
                "cpu_power_w", "dram_power_w",
            ),
            deps=("sites",),
            description="Jobs with model, life-cycle stage, state and time span, staged from the jobs input.",
        ),
        InputSpec(
            "allocations",
            ("job_id", "host", "gpu"),
            ("start", "end"),
            deps=("jobs", "hosts"),
            description="Which job held which GPU and when, staged from the allocations input.",
        ),
        InputSpec(
            "hardware",
            ("asset_id", "kind", "model", "quantity", "site", "in_service", "lifetime_years"),
            (
                "host", "gpu", "retired", "manufacturer", "embodied_kgco2e", "embodied_water_l",
                "embodied_adp_kgsbeq", "embodied_source", "die_area_mm2", "process_nm", "memory_gb",
                "capacity_gb",
            ),
            deps=("sites", "hosts"),
            description="Hardware procurement records with per-unit embodied impacts or specs.",
        ),
        InputSpec(
            "grid_intensity",
            ("zone", "ts", "gco2e_per_kwh"),
            ("basis", "kind", "source", "estimated", "valid_to"),
            description="Hourly grid carbon intensity per zone (gCO2e/kWh), staged from grid_intensity.",
        ),
        InputSpec(
            "energy_contracts",
            ("site", "valid_from", "valid_to", "mwh", "gco2e_per_kwh", "kind"),
            deps=("sites",),
            description="Energy contracts (PPAs, RECs) per site for market-based carbon.",
        ),
        InputSpec(
            "residual_mix",
            ("zone", "year", "gco2e_per_kwh"),
            description="Residual-mix emission factors per zone and year for market-based carbon.",
        ),
        InputSpec(
            "inference_usage",
            ("model", "date", "requests"),
            ("tokens_in", "tokens_out"),
            description="Inference requests served per model and day.",
        ),
        InputSpec(
            "pcf_factors",
            ("manufacturer", "name", "gwp_total_kgco2e"),
            ("category", "subcategory", "gwp_manufacturing_ratio", "gwp_manufacturing_kgco2e", "lifetime_years",
             "source"),
            description="Manufacturer product carbon footprints (e.g. the Boavizta database) to match hardware.",
        ),
        InputSpec(
            "models",
            ("model",),
            ("family", "expected_lifetime_requests", "parameters"),
            description="Models with family, parameter count and expected lifetime requests.",
        ),
        InputSpec(
            "offsets",
            ("retired_on", "tco2e", "kind"),
            ("model", "registry", "serial"),
            description="Carbon offsets retired, per model or organisation-wide; reported, never netted.",
        ),
    )
}
