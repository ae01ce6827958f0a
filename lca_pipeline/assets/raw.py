"""Raw inputs: the files of each input family in the data directory, observed as external assets.

An observation gives each input a data version from its files' paths, sizes and modification
times (cheap: no file is read), so a changed file marks everything downstream stale in the UI.
"""

import hashlib

import dagster as dg

from ..contract import OWNERS
from ..ingest import discover
from ..inputs import INPUTS
from ..resources import LcaResource

RAW_SPECS = [
    dg.AssetSpec(
        key=dg.AssetKey(["raw", name]),
        group_name="raw",
        description=f"Files of the `{name}` input in the data directory (see docs/data-contract.md).",
        owners=OWNERS,
        kinds={"file"},
    )
    for name in INPUTS
]


@dg.multi_observable_source_asset(specs=RAW_SPECS, name="raw_inputs")
def raw_inputs(lca: LcaResource):
    """Observe every input's files and version them by path, size and modification time."""
    for name in INPUTS:
        files = discover(lca.data_dirs(), name)
        digest = hashlib.sha256()
        for path in files:
            st = path.stat()
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        yield dg.ObserveResult(
            asset_key=dg.AssetKey(["raw", name]),
            data_version=dg.DataVersion(digest.hexdigest()[:16]),
            metadata={"files": len(files), "paths": dg.MetadataValue.json([str(p) for p in files[:50]])},
        )
