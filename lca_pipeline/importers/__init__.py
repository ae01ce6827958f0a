"""Importers: real cluster exports -> the pipeline's input contract (docs/importers.md).

    from lca_pipeline.importers import import_source
    result = import_source("nvidia-smi", Path("power-trace.csv"), Path("data"), {"host": "gpu01"})

writes ``data/gpu_samples/nvidia-smi__power-trace.csv`` and returns an ImportResult whose files
account for every data row of the original (rows_in == rows_out + rows_folded).
"""

from __future__ import annotations

from pathlib import Path

from . import boavizta_pcf, codecarbon, dcgm, electricitymaps, nvidia_smi, nvidia_smi_q, sacct, vllm
from .common import (
    FileContext,
    ImportedFile,
    Importer,
    ImporterError,
    ImportResult,
    SECTION_NAMES,
    effective_options,
    normalize_options,
    sha256_file,
)

IMPORTERS: dict[str, Importer] = {
    imp.kind: imp
    for imp in (
        Importer(
            "nvidia-smi", "gpu_samples",
            "nvidia-smi --query-gpu=... --format=csv[,nounits] logs",
            (".csv", ".txt", ".log"), nvidia_smi.run,
            {"gpu_samples": nvidia_smi.OUT_COLUMNS},
        ),
        Importer(
            "nvidia-smi-q", "gpu_samples",
            "full `nvidia-smi -q` text reports (one or many)",
            (".txt", ".log", ".out"), nvidia_smi_q.run,
            {"gpu_samples": nvidia_smi_q.OUT_COLUMNS},
        ),
        Importer(
            "dcgm", "gpu_samples",
            "DCGM-exporter Prometheus text, also embedded in markdown/logs",
            (".prom", ".txt", ".md", ".log", ".metrics"), dcgm.run,
            {"gpu_samples": dcgm.OUT_COLUMNS},
        ),
        Importer(
            "codecarbon", "jobs",
            "CodeCarbon emissions.csv (every schema version)",
            (".csv",), codecarbon.run,
            {"jobs": codecarbon.OUT_COLUMNS},
        ),
        Importer(
            "sacct", "jobs",
            "Slurm sacct output: --parsable2 with or without header, or fixed width",
            (".csv", ".txt", ".psv", ".log", ".out", ".sacct"), sacct.run,
            {"jobs": sacct.JOB_COLUMNS, "allocations": sacct.ALLOC_COLUMNS},
        ),
        Importer(
            "electricitymaps", "grid_intensity",
            "Electricity Maps portal hourly CSV",
            (".csv",), electricitymaps.run,
            {"grid_intensity": electricitymaps.OUT_COLUMNS},
        ),
        Importer(
            "boavizta-pcf", "pcf_factors",
            "Boavizta manufacturer PCF database (US or FR format)",
            (".csv",), boavizta_pcf.run,
            {"pcf_factors": boavizta_pcf.OUT_COLUMNS},
        ),
        Importer("vllm", "inference_usage", "vLLM /metrics Prometheus text (request and token counters)",
                 (".prom", ".txt", ".metrics", ".log"), vllm.run, {"inference_usage": vllm.OUT_COLUMNS}),
    )
}

KINDS: tuple[str, ...] = tuple(IMPORTERS)
OPTIONS: dict[str, tuple[str, ...]] = {
    "nvidia-smi": nvidia_smi.OPTIONS,
    "nvidia-smi-q": nvidia_smi_q.OPTIONS,
    "dcgm": dcgm.OPTIONS,
    "codecarbon": codecarbon.OPTIONS,
    "sacct": sacct.OPTIONS,
    "electricitymaps": electricitymaps.OPTIONS,
    "boavizta-pcf": boavizta_pcf.OPTIONS,
    "vllm": vllm.OPTIONS,
}
_ANY_KIND = sorted({name for names in OPTIONS.values() for name in names})


def validate_options(options: dict | None) -> None:
    """Every option name must be one an importer reads: a typo (`timezon`) would be ignored silently.

    Keys at top level or in [import]/[importers] apply to every kind, so they must be valid for at
    least one; keys in a kind's table ([sacct], [importers.sacct], ...) must be valid for that kind.
    """
    opts = normalize_options(options)
    tables = [("top level", opts)] + [
        (f"[{name}]", opts[name]) for name in ("import", "importers") if isinstance(opts.get(name), dict)
    ]
    for where, table in tables:
        for key, value in table.items():
            if key in ("import", "importers"):
                continue
            kind = key.replace("_", "-")
            if key in SECTION_NAMES and kind in OPTIONS:
                if not isinstance(value, dict):
                    raise ImporterError(f"importer option {key} must be a table of options for {kind}")
                for name in value:
                    if name not in OPTIONS[kind]:
                        raise ImporterError(
                            f"unknown {kind} option {name!r} in {where if where != 'top level' else ''}"
                            f"[{key}]; valid: {', '.join(OPTIONS[kind]) or 'none'}".replace("][", ".")
                        )
            elif key not in _ANY_KIND:
                raise ImporterError(f"unknown importer option {key!r} ({where}); valid: {', '.join(_ANY_KIND)}")


def _files_of(importer: Importer, path: Path) -> tuple[list[Path], list[Path]]:
    if path.is_file():
        return [path], []
    if not path.is_dir():
        raise ImporterError(f"{path}: no such file or folder")
    take, skip = [], []
    for p in sorted(path.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        (take if p.name.lower().endswith(importer.suffixes) else skip).append(p)
    return take, skip


def import_source(kind: str, path: Path, data_dir: Path, options: dict | None = None) -> ImportResult:
    """Import a file, or every file of the kind in a folder, into ``data_dir``.

    Writes ``data_dir/<input>/<kind>__<original-stem>.csv`` per file and output; see
    docs/importers.md for the columns and the options of each kind.
    """
    if kind not in IMPORTERS:
        raise ImporterError(f"unknown importer kind {kind!r}; known: {', '.join(KINDS)}")
    importer = IMPORTERS[kind]
    path = Path(path)
    data_dir = Path(data_dir)
    validate_options(options)
    opts = effective_options(options, kind)
    files, skipped = _files_of(importer, path)
    result = ImportResult(kind, skipped=skipped)
    used_stems: dict[str, int] = {}
    for f in files:
        stem = f.stem
        n = used_stems.get(stem.lower(), 0)
        used_stems[stem.lower()] = n + 1
        out_stem = stem if n == 0 else f"{stem}_{f.suffix.lstrip('.') or n + 1}"
        record = ImportedFile(source=f, sha256=sha256_file(f), kind=kind)
        ctx = FileContext(
            path=f, origin=str(f), data_dir=data_dir, kind=kind, options=opts, out_stem=out_stem, record=record
        )
        for input_name in importer.columns:  # a re-import replaces everything a previous one wrote
            ctx.output_path(input_name).unlink(missing_ok=True)
        importer.run(ctx)
        if not record.balanced:  # an importer bug, never a data quirk
            raise AssertionError(
                f"{kind} importer lost rows in {f}: rows_in={record.rows_in} rows_out={record.rows_out} "
                f"rows_folded={record.rows_folded}"
            )
        result.files.append(record)
    return result


def detect_kind_folders(data_dir: Path) -> list[tuple[str, Path]]:
    """Importer-kind folders present in a data directory (folder name == kind), in KINDS order."""
    data_dir = Path(data_dir)
    return [(kind, data_dir / kind) for kind in KINDS if (data_dir / kind).is_dir()]


__all__ = [
    "IMPORTERS",
    "KINDS",
    "OPTIONS",
    "ImportResult",
    "ImportedFile",
    "Importer",
    "ImporterError",
    "detect_kind_folders",
    "import_source",
    "validate_options",
]
