"""Atomic file writes: a reader never sees half a file, a crash never leaves one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


def read_json(path: Path | str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def check_output_file(path: Path | str, option: str) -> Path:
    """``path`` can receive a file: not a folder, in a folder that exists (or can be made)."""
    from dlrun.errors import ArgumentError

    path = Path(path)
    if path.is_dir():
        raise ArgumentError(f"{path} is a folder; give a file name", field=option)
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise ArgumentError(f"{parent} is a file, not a folder", field=option)
    if len(path.name.encode()) > 255:
        raise ArgumentError(f"the file name is {len(path.name)} characters long; the file system "
                            "takes at most 255", field=option)
    return path


def check_output_dir(path: Path | str, option: str) -> Path:
    """``path`` is, or can become, a folder: not a file, nor inside one."""
    from dlrun.errors import ArgumentError

    path = Path(path)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ArgumentError(f"{folder} is a file, not a folder", field=option)
            break
    if any(len(part.encode()) > 255 for part in path.parts):
        raise ArgumentError("a folder name is longer than the 255 characters a file system takes",
                            field=option)
    return path
