"""Time partitions: telemetry and its hourly rollups are partitioned by UTC day."""

import dagster as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2020-01-01", timezone="UTC", end_offset=1)
SINGLE_RUN = dg.BackfillPolicy.single_run()
