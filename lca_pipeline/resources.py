"""Resources: the data directory with its settings (parsed once per run), and the warehouse.

The warehouse owns every DuckDB connection. A refresh writes a *work* database that nobody else
opens; analysts read the *published* database, which only the publish step replaces (by an atomic
rename), so a reader never waits for a refresh and a refresh never waits for a reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from .ingest import data_dirs_for
from .settings import Settings, load_settings

# Telemetry can be far larger than memory: DuckDB stays under this budget and spills the rest to
# disk beside the work database. Every connection to one file must use the same settings.
MEMORY_LIMIT = "2500MB"

# Every step that opens the work database carries this tag; the multiprocess and k8s executors run
# at most one of them at a time (tag_concurrency_limits), since a DuckDB file has one writer, and
# dagster-celery sends them to one queue served by a single worker (executors.py).
# Telemetry slices (assets/slices.py) open no database and run beside them.
WAREHOUSE_TAG = "lca/warehouse"
WAREHOUSE_TAGS = {WAREHOUSE_TAG: "writer", "dagster-celery/queue": "lca-warehouse"}


class LcaResource(dg.ConfigurableResource):
    """The data directory, its lca.toml and where importer output goes."""

    data_dir: str
    config_file: str | None = None
    imported_dir: str | None = None
    _settings: Settings | None = PrivateAttr(default=None)

    def config_path(self) -> Path:
        return Path(self.config_file) if self.config_file else Path(self.data_dir) / "lca.toml"

    def settings(self) -> Settings:
        # Parsed once per run (per step process with a multiprocess executor), never per asset; on
        # first use inside a step, so a bad file fails that step and the run record names it.
        if self._settings is None:
            self._settings = load_settings(self.config_path())
        return self._settings

    def data_root(self) -> Path:
        # One spelling of every path whatever the launcher's working directory, so audit rows match.
        return Path(self.data_dir).resolve()

    def imports_root(self) -> Path | None:
        return Path(self.imported_dir).resolve() if self.imported_dir else None

    def data_dirs(self) -> list[Path]:
        return data_dirs_for(self.data_root(), self.imports_root())


def work_path_for(published: Path) -> Path:
    """Where a refresh builds the next version of `published`: a folder nobody else reads."""
    return published.parent / ".work" / published.name


def _config(spill_dir: Path) -> dict[str, str]:
    return {"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill_dir)}


def connect_utc(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the session settings every statement assumes (UTC, memory budget)."""
    path = Path(path)
    config = {} if read_only else _config(path.parent / ".duckdb_spill")
    conn = duckdb.connect(str(path), read_only=read_only, config=config)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def scratch(spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the same session settings, for reading input files (no warehouse).

    With `spill_dir` it keeps the warehouse's memory budget and spills beyond it there (a
    telemetry slice, which can hold a day of samples in flight).
    """
    if spill_dir is not None:
        # DuckDB creates the spill folder itself but not its parents.
        spill_dir.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(config=_config(spill_dir) if spill_dir is not None else {})
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET enable_progress_bar = false")
    return conn


@contextmanager
def read_published(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a published database; it never blocks, nor is blocked by, a refresh."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no published database at {path}: run `lca run` (or `lca demo`) first")
    conn = connect_utc(path, read_only=True)
    try:
        yield conn
    finally:
        conn.close()


class Warehouse(dg.ConfigurableResource):
    """The one owner of DuckDB connections: the work database of a refresh and the published one."""

    path: str
    _keeper: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _ready: bool = PrivateAttr(default=False)

    @property
    def published(self) -> Path:
        return Path(self.path).resolve()

    @property
    def work(self) -> Path:
        return work_path_for(self.published)

    @property
    def work_dir(self) -> Path:
        return self.work.parent

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.release()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the work database, schemas created once per process."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._keeper is None and not self.work.exists():
            # A materialisation outside a full refresh (one asset from the UI) starts from what
            # is published, never from an empty database.
            from .publish import restore_work

            restore_work(self.published, self.work)
        if self._keeper is None:
            # Holding one connection open keeps the database loaded between assets: each asset's
            # connection then attaches in microseconds instead of reopening and checkpointing it.
            self._keeper = connect_utc(self.work)
        conn = self._keeper.cursor()
        conn.execute("SET TimeZone = 'UTC'")
        try:
            if not self._ready:
                from .materialize import ensure_schemas

                ensure_schemas(conn)
                self._ready = True
            yield conn
        finally:
            conn.close()

    def release(self) -> None:
        """Close every connection to the work database (before it is restored or published)."""
        if self._keeper is not None:
            try:
                self._keeper.execute("CHECKPOINT")
            finally:
                self._keeper.close()
                self._keeper = None
        self._ready = False

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with read_published(self.published) as conn:
            yield conn
