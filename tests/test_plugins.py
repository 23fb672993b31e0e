"""Registration: one loader fills every registry from entry points; no module registers
anything by being imported; a plugin distribution adds a kind and an algorithm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, REGISTRIES, STAGES, VIEWS
from dlrun.registry import Registry, RegistryError
from tests.conftest import REPO


def test_register_get_and_unknown_lists_known():
    reg = Registry("widget")
    reg.register("a", 1, "pkg-a")
    reg.register("b", 2)
    assert reg.get("a") == 1 and reg.names() == ["a", "b"] and "a" in reg and "z" not in reg
    with pytest.raises(RegistryError, match=r"unknown widget 'z' \(known: a, b\)"):
        reg.get("z")


def test_a_name_taken_twice_names_both_providers():
    reg = Registry("widget")
    reg.register("a", 1, "pkg-a 1.0 (pkg_a:A)")
    with pytest.raises(RegistryError, match=r"pkg-a 1\.0 \(pkg_a:A\) and pkg-b 2\.0"):
        reg.register("a", 2, "pkg-b 2.0 (pkg_b:A)")


def test_every_builtin_entry_comes_from_dlrun_s_entry_points():
    from importlib.metadata import entry_points

    for registry in REGISTRIES:
        declared = {ep.name for ep in entry_points(group=registry.group) if ep.dist.name == "dlrun"}
        builtin = {n for n in registry.names() if registry.provider(n).startswith("dlrun ")}
        assert declared == builtin, registry.group
    assert {"tabular", "image", "timeseries"} <= set(KINDS.names())
    assert {"prepare", "evaluate", "report"} <= set(STAGES.names())
    assert len(ALGORITHMS) >= 10 and len(VIEWS) >= 9 and len(METRICS) >= 9


def dlrun_modules() -> list[str]:
    names = []
    for path in sorted((REPO / "dlrun").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_alone_in_a_fresh_interpreter():
    code = ("import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    importlib.import_module(name)\n"
            "    for m in [m for m in sys.modules if m == 'dlrun' or m.startswith('dlrun.')]:\n"
            "        del sys.modules[m]\n"
            "from dlrun.catalogue import REGISTRIES\n"
            "assert all(len(r) == 0 for r in REGISTRIES), 'an import registered something'\n")
    modules = [m for m in dlrun_modules() if m != "dlrun.__main__"]
    result = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_layering_holds():
    """import-linter contracts (pyproject.toml): the core never imports a kind, kinds are
    independent of each other, the layers only import downwards."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter is not installed")
    result = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


PLUGIN = '''
from pathlib import Path

from dlrun.catalogue import CLASS, NUMBER, TABLE, AlgorithmInfo, ViewInfo
from dlrun.kind import Kind


def _ridge2(ctx, *, alpha=2.0):
    from sklearn.linear_model import Ridge, RidgeClassifier

    return (RidgeClassifier if ctx.classification else Ridge)(alpha=alpha)


def _plain(roles):
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer()


class PairsKind(Kind):
    name = "pairs"
    description = "x,y pairs, one a line, in a text file"
    tasks = ("regression",)

    def load(self, spec, project_dir):
        import numpy as np
        import pandas as pd

        from dlrun.data.dataset import Dataset

        data = np.loadtxt(Path(project_dir) / spec.data.source, delimiter=",")
        return Dataset(pd.DataFrame({"x": data[:, 0]}), pd.Series(data[:, 1], name="y"),
                       spec.task, "pairs", numeric=["x"])


RIDGE2 = AlgorithmInfo("ridge2", _ridge2, frozenset({CLASS, NUMBER}), (TABLE,),
                       description="a plugin's ridge")
PLAIN = ViewInfo("plain", _plain, "pairs", (TABLE,), description="the numbers as they are")
KIND = PairsKind()
'''


def make_distribution(root: Path, name: str, entry_points: str, code: str = PLUGIN) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(textwrap.dedent(code))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def run_dlrun(args, site: Path, cwd: Path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "dlrun", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_plugin_distribution_adds_a_kind_a_view_and_an_algorithm(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "pairsplug", """
        [dlrun.kinds]
        pairs = pairsplug:KIND
        [dlrun.views]
        plain = pairsplug:PLAIN
        [dlrun.algorithms]
        ridge2 = pairsplug:RIDGE2
        """)
    listing = run_dlrun(["catalogue"], site, tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "pairs" in listing.stdout and "ridge2" in listing.stdout and "plain" in listing.stdout

    project = tmp_path / "line"
    project.mkdir()
    (project / "pairs.csv").write_text("".join(f"{x},{3 * x + 1 + (x % 3) * 0.1}\n" for x in range(40)))
    (project / "project.yaml").write_text(yaml.safe_dump({
        "name": "line", "kind": "pairs", "task": "regression", "metric": "mae",
        "data": {"source": "pairs.csv", "target": "y"}, "evaluation": {"folds": 4, "repeats": 1}}))
    result = run_dlrun(["evaluate", project, "--only", "ridge2,baseline", "--json"], site, tmp_path)
    assert result.returncode == 0, result.stderr
    board = json.loads(result.stdout)
    assert [(r["algorithm"], r["view"]) for r in board["rows"]] == [("ridge2", "plain"),
                                                                    ("baseline", "plain")]
    assert board["rows"][0]["mean"] < 0.2 < board["rows"][1]["mean"]


def test_a_plugin_that_takes_a_builtin_name_is_refused_naming_both(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "clash", """
        [dlrun.algorithms]
        linear = clash:RIDGE2
        """, PLUGIN.replace('AlgorithmInfo("ridge2"', 'AlgorithmInfo("linear"'))
    result = run_dlrun(["catalogue"], site, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "two algorithms are named 'linear'" in result.stderr
    assert "dlrun 0.1.0" in result.stderr and "clash 0.1" in result.stderr


def core_files() -> list[Path]:
    return [p for p in sorted((REPO / "dlrun").rglob("*.py")) if "kinds" not in p.relative_to(REPO).parts]


def test_the_contracts_cover_every_core_module():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    forbidden = next(c for c in config["contracts"] if c["type"] == "forbidden")
    listed = set(forbidden["source_modules"])
    top = {".".join(p.relative_to(REPO).with_suffix("").parts[:2]) for p in core_files()}
    top = {m for m in top if m not in ("dlrun.__init__", "dlrun")}
    assert top <= listed, f"add {sorted(top - listed)} to the import-linter contracts"


def kind_words() -> set[str]:
    """Names of the installed kinds, and the tasks only one kind has."""
    words = set(KINDS.names())
    tasks = [t for kind in KINDS.values() for t in kind.tasks]
    words |= {t for t in tasks if tasks.count(t) == 1}
    words |= {w + "s" for w in KINDS.names()}  # "images"
    return words


#: Kind names that are also everyday words of any program ("text": what a report block, a
#: message or a decoded file holds). The core's own use of such a word cannot be told from
#: naming the kind by the word alone, so for these only what does name a kind is caught:
#: the bare word compared with something, or passed as ``kind=`` or ``template=``.
ORDINARY_WORDS = {"text", "texts"}


def _is_word(node, word: str) -> bool:
    """Whether ``node`` is the string ``word`` (or a tuple, list or set holding it)."""
    import ast

    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_word(item, word) for item in node.elts)
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.strip().lower() == word)


def test_the_core_names_no_kind_of_data():
    """Outside dlrun/kinds, no string and no identifier names a kind (or a task only one kind
    has): the core asks the registry. Prose (comments, docstrings, descriptions) may speak
    of pictures or series. Kind names that are everyday words (ORDINARY_WORDS) are caught
    where they name a kind: compared with something, or passed as a kind or template."""
    import ast

    all_words = kind_words()
    ordinary = all_words & ORDINARY_WORDS
    words = all_words - ordinary
    found = []
    for path in core_files():
        tree = ast.parse(path.read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr)
                      and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                hit = {w for w in ordinary for side in (node.left, *node.comparators) if _is_word(side, w)}
            elif isinstance(node, ast.keyword) and node.arg in ("kind", "template"):
                hit = {w for w in ordinary if _is_word(node.value, w)}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                hit = {w for w in words if w == node.value.strip().lower()}
            elif isinstance(node, (ast.Name, ast.Attribute, ast.arg)):
                name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "arg", "")
                hit = {w for w in words if w in name.lower().split("_")}
            else:
                continue
            if hit:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {sorted(hit)}")
    assert not found, "\n".join(found)
