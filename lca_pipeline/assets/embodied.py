"""Embodied impacts: hardware records valued by PCF, component model or default, then amortised."""

from .models import Model, model_asset

MODELS = [
    Model(
        "intermediate.asset_embodied",
        "intermediate/int_asset_embodied",
        ("staging.hardware", "staging.pcf_factors", "staging.factor_component_constants",
         "staging.factor_component_model", "staging.factor_embodied_defaults"),
        "Embodied impact per hardware record by PCF, component model or default, with its service life.",
        lineage={
            "total_co2e_kg": [("staging.hardware", "embodied_kgco2e"), ("staging.hardware", "quantity"),
                              ("staging.factor_embodied_defaults", "gwp_central_kgco2e"),
                              ("staging.factor_component_model", "epa_kwh_per_cm2")],
            "life_hours": [("staging.hardware", "lifetime_years"), ("staging.hardware", "retired")],
        },
    ),
    Model(
        "intermediate.embodied_daily",
        "intermediate/int_embodied_daily",
        ("intermediate.asset_embodied", "intermediate.allocation_hourly", "intermediate.energy_ledger_hourly",
         "intermediate.job_level_hourly", "intermediate.job_tiers", "staging.hosts", "staging.factor_embodied_device"),
        "Embodied impact per asset and day, split between jobs and unallocated capacity by [embodied] policy.",
        lineage={
            "co2e_kg": [("intermediate.asset_embodied", "total_co2e_kg"), ("intermediate.allocation_hourly", "alloc_s")],
        },
    ),
    Model(
        "marts.asset_embodied",
        "marts/asset_embodied",
        ("intermediate.asset_embodied", "intermediate.embodied_daily"),
        "Per hardware record: method, total embodied impact, allocated, unallocated and remaining.",
        lineage={
            "total_co2e_kg": [("intermediate.asset_embodied", "total_co2e_kg")],
            "allocated_co2e_kg": [("intermediate.embodied_daily", "co2e_kg")],
            "unallocated_co2e_kg": [("intermediate.embodied_daily", "co2e_kg")],
        },
    ),
]

EMBODIED_ASSETS = [model_asset(m) for m in MODELS]
