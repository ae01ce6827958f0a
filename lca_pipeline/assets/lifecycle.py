"""The full life cycle per model: functional units, break-even and interpretation (ISO 14044 phase 4)."""

from .models import Model, model_asset

_PARTS = "intermediate.model_parts"

MODELS = [
    Model(
        "intermediate.model_stage_impacts",
        "intermediate/int_model_stage_impacts",
        ("intermediate.impacts_hourly", "intermediate.embodied_daily", "staging.jobs", "staging.grid_intensity"),
        "Per model and stage: operational, embodied and idle-capacity share of every criterion.",
        lineage={
            "co2e_location_kg": [("intermediate.impacts_hourly", "co2e_location_kg")],
            "embodied_co2e_kg": [("intermediate.embodied_daily", "co2e_kg")],
        },
    ),
    Model(
        _PARTS,
        "intermediate/int_model_parts",
        ("intermediate.model_stage_impacts", "staging.inference_usage", "staging.models"),
        "Each model's impacts by part of the functional-unit formula (up-front, inference, shared, other).",
    ),
    Model(
        "intermediate.model_uncertainty",
        "intermediate/int_model_uncertainty",
        (_PARTS, "intermediate.impacts_hourly", "intermediate.embodied_daily", "intermediate.asset_embodied",
         "staging.jobs", "staging.inference_usage", "staging.models"),
        "Seeded Monte Carlo: p05/p50/p95 of each model's total CO2e, C_FU per 1,000 requests and break-even.",
        lineage={"total_co2e_location_kg_p50": [(_PARTS, "value")]},
    ),
    Model(
        "marts.model_lifecycle",
        "marts/model_lifecycle",
        (_PARTS, "intermediate.model_stage_impacts", "staging.inference_usage", "staging.models", "staging.offsets",
         "intermediate.model_uncertainty"),
        "Per model and family: life-cycle totals, impact per 1,000 requests, break-even and SCI per request.",
        lineage={
            "total_co2e_location_kg": [(_PARTS, "value")],
            "offsets_retired_tco2e": [("staging.offsets", "tco2e")],
            "requests_to_date": [("staging.inference_usage", "requests")],
            "expected_lifetime_requests": [("staging.models", "expected_lifetime_requests")],
        },
    ),
    Model(
        "marts.model_lifecycle_components",
        "marts/model_lifecycle_components",
        ("intermediate.model_stage_impacts",),
        "Each model's life cycle in long form: component, criterion, value and unit.",
    ),
    Model(
        "marts.hotspots",
        "marts/hotspots",
        ("marts.model_lifecycle_components",),
        "The components that make up at least 80 % of each model's total, per criterion.",
    ),
    Model(
        "marts.data_quality",
        "marts/data_quality",
        ("intermediate.impacts_hourly", "intermediate.embodied_daily", "intermediate.asset_embodied",
         "marts.energy_coverage", "marts.asset_embodied", "staging.jobs", "intermediate.job_tiers"),
        "Each model's totals by data tier, telemetry coverage, grid fallbacks and embodied methods.",
    ),
    Model(
        "marts.sensitivity",
        "marts/sensitivity",
        (_PARTS, "marts.model_lifecycle", "intermediate.model_stage_impacts"),
        "How each model's per-request and total carbon move with PUE, grid basis, lifetimes, requests, policy.",
    ),
]

LIFECYCLE_ASSETS = [model_asset(m) for m in MODELS]
