"""The shipped factor tables (data/factors): where they are and which version they carry."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
FACTORS_DIR = next(
    (p for p in (_PACKAGE_DIR.parent / "data" / "factors", _PACKAGE_DIR / "_factors") if p.is_dir()),
    _PACKAGE_DIR.parent / "data" / "factors",
)
# Bump together with data/factors/README.md whenever a value changes.
FACTOR_SET_VERSION = "2026.11-1"

FACTOR_TABLES = {
    "factor_device_power": "device_power_defaults.csv",
    "factor_embodied_defaults": "embodied_defaults.csv",
    "factor_component_model": "component_model.csv",
    "factor_component_constants": "component_constants.csv",
    "factor_embodied_device": "embodied_device_defaults.csv",
}


def factor_path(table: str) -> Path:
    return FACTORS_DIR / FACTOR_TABLES[table]
