"""dlrun as a user or a Dask worker installs it: a wheel, not the editable source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "dlrun"


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True)
        return [p for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything but builds
        skip = {".venv", ".git", "build", "portfolio", "bench-results"}
        return [str(p.relative_to(REPO)) for p in REPO.rglob("*")
                if p.is_file() and not (set(p.relative_to(REPO).parts) & skip)]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the files git would commit (what a clean checkout holds)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    for rel in tracked_files():
        target = source / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / rel).is_symlink():
            os.symlink(os.readlink(REPO / rel), target)
        elif (REPO / rel).is_file():
            shutil.copy2(REPO / rel, target)
    out = root / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         str(source), "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("dlrun-*.whl")
    return built


def test_wheel_holds_every_file_the_code_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [p for p in (PACKAGE / "configs").rglob("*") if p.is_file()]
    assert data, "no package data found"
    expected = {p.relative_to(REPO).as_posix() for p in data}
    expected |= {p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("*.py")}
    assert expected - names == set()
    assert "dlrun/configs/search_spaces.yaml" in names and "dlrun/configs/templates/report.html.j2" in names


@pytest.mark.slow
def test_installed_wheel_runs_new_evaluate_report_predict(wheel, tmp_path):
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                             str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    work = tmp_path / "work"
    work.mkdir()
    # the wheel's copy comes first on the path; the editable finder of the development
    # install only answers for modules nothing else found
    env = dict(os.environ, PYTHONPATH=str(site))

    def dlrun(*args):
        out = subprocess.run([sys.executable, "-m", "dlrun", *map(str, args)], cwd=work, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, (args, out.stderr)
        return out

    where = subprocess.run([sys.executable, "-c", "import dlrun, dlrun.paths; "
                            "print(dlrun.__file__); print(dlrun.paths.configs_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(site)) for line in where.stdout.split()), where.stdout

    dlrun("new", "iris", "--data", "sklearn:iris", "--dir", "projects")
    dlrun("evaluate", "projects/iris", "--quick", "--only", "baseline,linear")
    dlrun("report", "projects/iris", "--portfolio", "portfolio")
    assert (work / "portfolio" / "iris" / "report.html").is_file()
    rows = ("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n"
            "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    (work / "new.csv").write_text(rows)
    out = dlrun("predict", "portfolio/iris", "--data", "new.csv")
    assert out.stdout.splitlines()[0].startswith("prediction")
    assert len(out.stdout.strip().splitlines()) == 3
