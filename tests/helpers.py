"""Small builders shared by the tests (plain functions, not fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml


def write_project(root: Path, name: str, data: dict, **spec) -> Path:
    """A project folder with a project.yaml built from ``data`` and ``spec`` keys."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    document = {"name": name, "task": spec.pop("task", "classification"), "data": data,
                "metric": spec.pop("metric", "accuracy"), **spec}
    (folder / "project.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def classification_csv(path: Path, n: int = 150, seed: int = 0) -> Path:
    """Two informative numeric columns, a string categorical, some '?' cells, string labels."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + 0.5 * x2 + (colour == "red") > 0.3, "yes", "no")
    lines = ["x1,x2,colour,label"]
    for i in range(n):
        a = "?" if i % 17 == 0 else f"{x1[i]:.4f}"
        lines.append(f"{a},{x2[i]:.4f},{colour[i]},{label[i]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def regression_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = 3 * X[:, 0] - 2 * X[:, 1] + rng.normal(scale=0.3, size=n) + 10
    lines = ["a,b,c,y"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t:.4f}" for r, t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path
