"""Resources: where the data and the warehouse are, and the parsed settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from .ingest import data_dirs_for
from .settings import Settings, load_settings


class LcaResource(dg.ConfigurableResource):
    """The data directory, its lca.toml and where importer output goes."""

    data_dir: str
    config_file: str | None = None
    imported_dir: str | None = None
    report_file: str = "data/warehouse/report.html"

    def config_path(self) -> Path:
        return Path(self.config_file) if self.config_file else Path(self.data_dir) / "lca.toml"

    def settings(self) -> Settings:
        return load_settings(self.config_path())

    def report_path(self) -> Path:
        return Path(self.report_file)

    def data_dirs(self) -> list[Path]:
        return data_dirs_for(Path(self.data_dir), Path(self.imported_dir) if self.imported_dir else None)


def open_connection(resource: DuckDBResource):
    """A DuckDB connection with the session settings every statement assumes (UTC)."""
    return _Session(resource)


class _Session:
    def __init__(self, resource: DuckDBResource) -> None:
        self._cm = resource.get_connection()

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._conn = self._cm.__enter__()
        self._conn.execute("SET TimeZone = 'UTC'")
        return self._conn

    def __exit__(self, *exc) -> None:
        # dagster-duckdb closes only on a clean exit; a failed asset must not leave the file open.
        self._conn.close()
        self._cm.__exit__(None, None, None)


# Telemetry can be far larger than memory: DuckDB stays under this budget and spills the rest to
# disk next to the database. Every connection to one file must use the same settings.
MEMORY_LIMIT = "2500MB"


def connection_config(database: str) -> dict[str, str]:
    return {"memory_limit": MEMORY_LIMIT, "temp_directory": str(Path(database).parent / ".duckdb_spill")}


def make_duckdb(database: str) -> DuckDBResource:
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=database, connection_config=connection_config(database))
