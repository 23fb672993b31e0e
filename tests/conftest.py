"""Shared fixtures: the reference datasets in ../shared/datasets and small CSV files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dlrun.plugins import load_plugins

load_plugins()  # the registries the tests parametrize over (as the CLI and the API do)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
#: Every skip for want of the shared datasets starts with this, so the run can count them.
NO_SHARED = "shared datasets:"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder of classic datasets beside the repository; skips the test when absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"{NO_SHARED} none found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture
def shared_file(shared_datasets: Path) -> Callable[[str], Path]:
    """``shared_file("pima-indians-diabetes.csv")``; skips when that file is missing."""

    def _get(name: str) -> Path:
        path = shared_datasets / name
        if not path.is_file():
            pytest.skip(f"{NO_SHARED} {name} not found in {shared_datasets}")
        return path

    return _get


@pytest.fixture
def tmp_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or rows) to a file in tmp_path: ``tmp_csv("a,b\\n1,2\\n", name="x.csv")``."""

    def _write(content: str | list[list[object]], name: str = "data.csv", delimiter: str = ",") -> Path:
        if not isinstance(content, str):
            content = "\n".join(delimiter.join(str(v) for v in row) for row in content) + "\n"
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return path

    return _write


def pytest_terminal_summary(terminalreporter, config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    config._dlrun_missing_shared = sum(
        1 for report in skipped if NO_SHARED in str(getattr(report, "longrepr", "")))


def pytest_unconfigure(config) -> None:
    """The run's last line, when tests skipped for want of ../shared/datasets: a thin run
    (a clone outside the workspace) is never mistaken for a full one."""
    missing = getattr(config, "_dlrun_missing_shared", 0)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if missing and reporter is not None:
        reporter.write_line(
            f"{missing} test(s) skipped for want of the shared datasets ({SHARED_DATASETS}): "
            "this run did not check dlrun on the classic datasets.", yellow=True)
