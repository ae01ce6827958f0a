"""lca-pipeline: life-cycle assessment of machine-learning models on Dagster and DuckDB."""

__version__ = "0.1.0"
