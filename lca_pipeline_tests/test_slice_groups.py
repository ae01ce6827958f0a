"""Which days share a telemetry slice: consecutive days while their samples fit the budget."""

from __future__ import annotations

from datetime import date, timedelta

from lca_pipeline.assets.slices import group_days

DAYS = [date(2024, 3, 4) + timedelta(days=i) for i in range(6)]


def test_small_days_share_a_slice_until_the_budget():
    samples = {d: 40 for d in DAYS}
    assert group_days(DAYS, samples, budget=100) == [DAYS[0:2], DAYS[2:4], DAYS[4:6]]
    assert group_days(DAYS, samples, budget=1_000) == [DAYS]


def test_a_day_above_the_budget_is_alone_and_days_without_samples_still_have_a_slice():
    samples = {DAYS[0]: 10, DAYS[1]: 500, DAYS[2]: 10}  # days 3-5: no samples at all
    assert group_days(DAYS, samples, budget=100) == [[DAYS[0]], [DAYS[1]], DAYS[2:6]]
    # Every day is in exactly one group, in order.
    assert [d for g in group_days(DAYS, samples, budget=100) for d in g] == DAYS


def test_budget_zero_makes_every_day_with_samples_a_slice():
    samples = {d: 1 for d in DAYS}
    assert group_days(DAYS, samples, budget=0) == [[d] for d in DAYS]
