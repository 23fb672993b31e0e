"""Where dlrun's own files live (the defaults under ``configs/``)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def configs_dir() -> Path:
    """The ``configs/`` folder: shipped beside the package (wheel) or at the repo root."""
    for candidate in (_PACKAGE / "configs", _PACKAGE.parent / "configs"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("dlrun's configs/ folder is missing from this installation")


def templates_dir() -> Path:
    return configs_dir() / "templates"
