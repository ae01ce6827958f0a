"""Operational accounting: telemetry energy to jobs and capacity, then facility energy, carbon and water."""

from .. import sql
from .models import Model, model_asset

sql.register("audit/delete_assumptions")

_IMPACT = "intermediate.impacts_hourly"
_MEASURES = (
    "energy_gpu_kwh", "energy_host_other_kwh", "energy_shared_kwh", "energy_unsplit_kwh", "energy_it_kwh",
    "energy_facility_kwh", "water_onsite_l", "water_offsite_l",
)
_MART_LINEAGE = {
    **{m: [(_IMPACT, m)] for m in _MEASURES},
    # the marts name the scope: operational (use phase) carbon
    "operational_co2e_location_kg": [(_IMPACT, "co2e_location_kg")],
    "operational_co2e_market_kg": [(_IMPACT, "co2e_market_kg")],
    "gpu_hours": [(_IMPACT, "gpu_s")],
    "model": [("staging.jobs", "model")],
    "stage": [("staging.jobs", "stage")],
    "grid_basis": [(_IMPACT, "grid_basis")],
    "grid_kind": [(_IMPACT, "grid_kind")],
    "market_basis": [(_IMPACT, "market_basis")],
}

_EMBODIED_LINEAGE = {
    "embodied_co2e_kg": [("intermediate.embodied_daily", "co2e_kg")],
    "embodied_water_l": [("intermediate.embodied_daily", "water_l")],
    "embodied_adp_kgsbeq": [("intermediate.embodied_daily", "adp_kgsbeq")],
}

MODELS = [
    Model(
        "intermediate.telemetry_energy_hourly",
        "intermediate/int_telemetry_energy_hourly",
        ("staging.gpu_samples", "staging.node_samples", "staging.gpu_energy_minutes", "staging.hosts"),
        "Energy per host, component, GPU and hour from telemetry (counter or trapezoid), with coverage.",
        partitioned=True,
        reads_files=("gpu_samples", "node_samples", "gpu_energy_minutes"),
    ),
    Model(
        "intermediate.allocation_hourly",
        "intermediate/int_allocation_hourly",
        ("staging.allocations", "staging.hosts"),
        "Seconds each job held each GPU in each hour.",
        partitioned=True,
        lineage={"alloc_s": [("staging.allocations", "start"), ("staging.allocations", "end")]},
    ),
    Model(
        "intermediate.gpu_hourly",
        "intermediate/int_gpu_hourly",
        ("intermediate.telemetry_energy_hourly", "intermediate.allocation_hourly", "staging.hosts"),
        "Measured GPU energy, coverage and job occupancy per GPU-hour: the unit of attribution.",
        partitioned=True,
        lineage={"energy_gpu_kwh": [("intermediate.telemetry_energy_hourly", "energy_kwh")]},
    ),
    Model(
        "intermediate.host_other_hourly",
        "intermediate/int_host_other_hourly",
        ("intermediate.telemetry_energy_hourly", "intermediate.gpu_hourly", "staging.hosts"),
        "Non-GPU energy per host-hour: components, or node minus GPUs, or a non-compute host's node power.",
        partitioned=True,
        after=("audit/insert_assumptions_host_other",),
        lineage={"energy_kwh": [("intermediate.telemetry_energy_hourly", "energy_kwh")]},
    ),
    Model(
        "intermediate.job_tiers",
        "intermediate/int_job_tiers",
        ("staging.jobs", "intermediate.allocation_hourly", "intermediate.gpu_hourly", "staging.factor_device_power",
         "staging.hosts"),
        "Each job's data-quality tier (measured_sample, measured_job, estimated) and estimate basis.",
        after=("audit/insert_assumptions_job_tiers",),
    ),
    Model(
        "intermediate.job_level_hourly",
        "intermediate/int_job_level_hourly",
        ("intermediate.job_tiers", "staging.jobs"),
        "Hourly energy of jobs measured per job or estimated (devices x hours x W).",
        partitioned=True,
        lineage={
            "energy_gpu_kwh": [("staging.jobs", "avg_power_w"), ("staging.jobs", "gpu_energy_kwh")],
            "energy_unsplit_kwh": [("staging.jobs", "energy_kwh")],
        },
    ),
    Model(
        "intermediate.energy_ledger_hourly",
        "intermediate/int_energy_ledger_hourly",
        ("intermediate.gpu_hourly", "intermediate.allocation_hourly", "intermediate.host_other_hourly",
         "intermediate.job_level_hourly", "staging.hosts"),
        "Every kWh per site-hour on exactly one row: a job, unallocated capacity or shared infrastructure.",
        partitioned=True,
        lineage={
            "energy_gpu_kwh": [("intermediate.gpu_hourly", "energy_gpu_kwh"), ("intermediate.job_level_hourly", "energy_gpu_kwh")],
            "energy_host_other_kwh": [("intermediate.host_other_hourly", "energy_kwh")],
            "energy_shared_kwh": [("intermediate.host_other_hourly", "energy_kwh")],
            "energy_unsplit_kwh": [("intermediate.job_level_hourly", "energy_unsplit_kwh")],
            "gpu_s": [("intermediate.allocation_hourly", "alloc_s")],
        },
    ),
    Model(
        "intermediate.site_hourly",
        "intermediate/int_site_hourly",
        ("intermediate.energy_ledger_hourly", "staging.sites"),
        "Zone, PUE, WUE and EWIF valid at each site-hour with energy.",
        partitioned=True,
        lineage={"pue": [("staging.sites", "pue")], "zone": [("staging.sites", "zone")]},
    ),
    Model(
        "intermediate.grid_hourly",
        "intermediate/int_grid_hourly",
        ("intermediate.site_hourly", "staging.grid_intensity"),
        "Carbon intensity per zone-hour needed, with labelled fallbacks (interpolated, nearest, annual mean).",
        partitioned=True,
        after=("audit/insert_assumptions_grid",),
        lineage={"gco2e_per_kwh": [("staging.grid_intensity", "gco2e_per_kwh")]},
    ),
    Model(
        _IMPACT,
        "intermediate/int_impacts_hourly",
        ("intermediate.energy_ledger_hourly", "intermediate.site_hourly", "intermediate.grid_hourly",
         "staging.energy_contracts", "staging.residual_mix"),
        "Ledger rows with facility energy, location- and market-based carbon and water.",
        lineage={
            "energy_facility_kwh": [("intermediate.energy_ledger_hourly", "energy_gpu_kwh"), ("intermediate.site_hourly", "pue")],
            "co2e_location_kg": [("intermediate.grid_hourly", "gco2e_per_kwh"), ("intermediate.site_hourly", "pue")],
            "co2e_market_kg": [("staging.energy_contracts", "mwh"), ("staging.energy_contracts", "gco2e_per_kwh"),
                               ("staging.residual_mix", "gco2e_per_kwh"), ("intermediate.grid_hourly", "gco2e_per_kwh")],
            "water_onsite_l": [("intermediate.site_hourly", "wue_l_per_kwh")],
            "water_offsite_l": [("intermediate.site_hourly", "ewif_l_per_kwh")],
        },
    ),
    Model(
        "marts.stage_impacts",
        "marts/stage_impacts",
        (_IMPACT, "staging.jobs", "intermediate.embodied_daily"),
        "Energy, carbon, water, embodied impact, job counts and waste per model, life-cycle stage and UTC date.",
        lineage={**_MART_LINEAGE, **_EMBODIED_LINEAGE},
    ),
    Model(
        "marts.job_impacts",
        "marts/job_impacts",
        (_IMPACT, "staging.jobs", "intermediate.job_tiers", "intermediate.embodied_daily"),
        "Energy, carbon, water and embodied impact per job, with its data-quality tier.",
        lineage={**_MART_LINEAGE, **_EMBODIED_LINEAGE, "tier": [("intermediate.job_tiers", "tier")]},
    ),
    Model(
        "marts.fleet_daily",
        "marts/fleet_daily",
        ("intermediate.gpu_hourly", "intermediate.host_other_hourly", _IMPACT),
        "Per site and day: GPU utilisation, measured vs attributed energy, and idle share.",
        lineage={
            "measured_gpu_kwh": [("intermediate.gpu_hourly", "energy_gpu_kwh")],
            "attributed_it_kwh": [(_IMPACT, "energy_it_kwh")],
            "unallocated_it_kwh": [(_IMPACT, "energy_it_kwh")],
        },
    ),
    Model(
        "marts.energy_coverage",
        "marts/energy_coverage",
        (_IMPACT, "intermediate.job_tiers", "staging.jobs"),
        "How much of each model's energy is measured, at which tier, and which grid fallbacks were used.",
    ),
    Model(
        "marts.site_hourly_impacts",
        "marts/site_hourly_impacts",
        (_IMPACT,),
        "Per site and UTC hour: IT and facility energy, location- and market-based carbon and water.",
        lineage={
            **{m: [(_IMPACT, m)] for m in ("energy_it_kwh", "energy_facility_kwh", "water_onsite_l", "water_offsite_l")},
            "operational_co2e_location_kg": [(_IMPACT, "co2e_location_kg")],
            "operational_co2e_market_kg": [(_IMPACT, "co2e_market_kg")],
        },
    ),
]

OPERATIONAL_ASSETS = [model_asset(m) for m in MODELS]
