"""Raw inputs: the files of each input family in the data directory, as external asset specs."""

import dagster as dg

from ..inputs import INPUTS

RAW_SPECS = [
    dg.AssetSpec(
        key=dg.AssetKey(["raw", name]),
        group_name="raw",
        description=f"Files of the `{name}` input in the data directory (see docs/data-contract.md).",
        kinds={"file"},
    )
    for name in INPUTS
]
