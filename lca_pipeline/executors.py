"""Which Dagster executor runs a refresh's steps, configured so the work database keeps one writer.

Every executor runs the same job. Steps that open the work database carry the `lca/warehouse` tag
(resources.WAREHOUSE_TAGS) and run one at a time; telemetry slices (assets/slices.py) open no
database and run beside them. docs/deployment.md shows each in production.
"""

from __future__ import annotations

import os

import dagster as dg

from .resources import WAREHOUSE_TAG

KINDS = ("in_process", "multiprocess", "k8s", "celery")
# At most one step that opens the work database at a time.
ONE_WRITER = [{"key": WAREHOUSE_TAG, "limit": 1}]


def executor_for(kind: str = "in_process", max_concurrent: int | None = None) -> dg.ExecutorDefinition:
    """The executor for `kind`, with the one-writer limit; dagster-k8s and dagster-celery are
    imported only when chosen."""
    if kind == "in_process":
        return dg.in_process_executor
    if kind == "multiprocess":
        return dg.multiprocess_executor.configured({
            "max_concurrent": max_concurrent or os.cpu_count() or 1,
            "tag_concurrency_limits": ONE_WRITER,
            # Step processes fork from a server that imported the pipeline once: about a second
            # saved per step.
            "start_method": {"forkserver": {"preload_modules": ["lca_pipeline.assets"]}},
        })
    if kind == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise ImportError("LCA_EXECUTOR=k8s needs dagster-k8s: pip install dagster-k8s") from exc
        # Image, namespace and volumes come from the K8sRunLauncher's config (docs/deployment.md).
        return k8s_job_executor.configured({
            "tag_concurrency_limits": ONE_WRITER, **({"max_concurrent": max_concurrent} if max_concurrent else {}),
        })
    if kind == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:
            raise ImportError("LCA_EXECUTOR=celery needs dagster-celery: pip install dagster-celery") from exc
        # Celery has no tag limits: warehouse steps go to their own queue (`dagster-celery/queue` in
        # WAREHOUSE_TAGS), which one worker with --concurrency 1 serves.
        return celery_executor
    raise ValueError(f"executor {kind!r}: choose one of {', '.join(KINDS)}")
