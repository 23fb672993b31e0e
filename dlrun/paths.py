"""Where dlrun's own files live: the defaults it ships as package data.

Everything dlrun reads at run time (algorithm defaults and search spaces, the
standard-dataset catalogue, the report and README templates) is package data
under ``dlrun/configs/`` and is found through :mod:`importlib.resources`, so
an installed wheel works without the source tree. The repository's top-level
``configs`` is a link to the same folder, for people browsing it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def configs_dir() -> Path:
    """The ``configs/`` folder inside the installed package."""
    path = Path(str(files("dlrun") / "configs"))
    if not path.is_dir():  # pragma: no cover - a broken installation
        raise FileNotFoundError(f"dlrun's package data is missing from this installation ({path})")
    return path


def templates_dir() -> Path:
    return configs_dir() / "templates"
