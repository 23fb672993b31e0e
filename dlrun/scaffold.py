"""``dlrun new``: scaffold a project folder with a ``project.yaml`` and a README.

The kind of data (``--template``, default: the default kind) makes the draft
of the spec from ``--data`` (:meth:`dlrun.kind.Kind.draft`); this module checks
the name and the options, lays the draft out as project.yaml, writes the
README of problem-definition questions, and puts both in place atomically. It
never overwrites an existing project.

Light on purpose: PyYAML only, not even pydantic (no scikit-learn, no
TensorFlow), for drafts that dlrun makes itself from the data (``light``):
they are written by :func:`dlrun.specdoc.spec_document`, which lays them out as
the schema would (tests hold the two to each other); the others are validated
by :mod:`dlrun.spec`.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrun.catalogue import CLASSIFICATION, KINDS, METRICS
from dlrun.errors import ArgumentError, BadInput
from dlrun.io import check_output_dir
from dlrun.paths import templates_dir
from dlrun.plugins import default_kind, load_plugins
from dlrun.specdoc import SPEC_FILE, dump_document, spec_document

README_TEMPLATE = "project_README.md"
#: Longest project name (it names a folder and a portfolio entry).
MAX_NAME = 100
DEFAULT_SOURCE = "data.csv"
#: Classes this unbalanced (largest >= ratio x smallest) are scored by balanced accuracy.
IMBALANCE_RATIO = 4.0


def classification_metric(counts: dict[Any, int]) -> str:
    """accuracy, or balanced_accuracy when the classes are imbalanced (see IMBALANCE_RATIO;
    for two classes: a minority share below 20%)."""
    sizes = [int(n) for n in counts.values()]
    if len(sizes) >= 2 and max(sizes) >= IMBALANCE_RATIO * min(sizes):
        return "balanced_accuracy"
    return "accuracy"


@dataclass
class Draft:
    """What a template inference function produces."""

    spec: dict[str, Any]
    data_lines: list[str] = field(default_factory=list)  # README "The data" bullets
    notes: list[str] = field(default_factory=list)  # things the user should know
    #: True when every value of ``spec`` was made by dlrun and needs no schema
    #: check: it is then laid out by :func:`dlrun.specdoc.spec_document`, without
    #: pydantic (tests hold that to the schema); False runs :mod:`dlrun.spec`.
    light: bool = False


@dataclass
class Request:
    name: str
    data: str | None
    target: str | int | None
    header: bool | None
    project_dir: Path  # absolute; does not exist yet
    extra: dict[str, Any]


# --------------------------------------------------------------------------- entry point


def new_project(
    name: str,
    *,
    template: str | None = None,
    data: str | None = None,
    target: str | int | None = None,
    header: bool | None = None,
    directory: str | Path = "projects",
    **extra: Any,
) -> Path:
    """Create ``directory/name/`` with ``project.yaml`` and ``README.md``; returns the folder.

    Raises :class:`~dlrun.errors.BadInput` subclasses naming the option at
    fault; never overwrites an existing project.
    """
    if len(name or "") > MAX_NAME:
        raise ArgumentError(f"the project name is {len(name)} characters long; use at most {MAX_NAME}",
                            field="NAME")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""):
        raise ArgumentError(
            f"'{name}' is not a usable project name; use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit",
            field="NAME",
        )
    load_plugins()
    template = template or default_kind()
    if template not in KINDS:
        raise ArgumentError(f"unknown template '{template}'; choose a kind of data: "
                            + ", ".join(KINDS.names()), field="--template")
    kind = KINDS.get(template)
    description = extra.pop("description", None)
    for key, value in extra.items():
        if value is not None and key not in kind.new_options:
            option = "--" + key.replace("_", "-")
            raise ArgumentError(f"{option} does not apply to a {template} project", field=option)

    check_output_dir(directory, "--dir")
    project_dir = Path(directory) / name
    _refuse_existing(project_dir)
    draft = kind.draft(Request(name, data, target, header, project_dir.resolve(), extra))
    if description:
        draft.spec["description"] = description

    document = spec_document_of(draft)
    spec_text = kind.spec_header() + dump_document(document)
    readme = render_readme(document, draft, project_dir)
    return _write_atomically(project_dir, {SPEC_FILE: spec_text, "README.md": readme})


def spec_document_of(draft: Draft) -> dict[str, Any]:
    """The project.yaml document of a draft: laid out without pydantic when the
    draft is light, else validated by the schema (and any error names its field)."""
    if draft.light:
        return spec_document(draft.spec)
    from dlrun.spec import parse_spec, spec_as_document

    return spec_as_document(parse_spec(draft.spec, origin="the generated project.yaml"))


def _refuse_existing(project_dir: Path) -> None:
    if project_dir.exists() and (not project_dir.is_dir() or any(project_dir.iterdir())):
        raise BadInput(
            f"{project_dir} already exists; dlrun new never overwrites a project.",
            field="NAME",
            hint="Choose another name or --dir, or remove the folder first.",
        )


def _write_atomically(project_dir: Path, files: dict[str, str]) -> Path:
    """Write the files into a temporary folder, then rename it into place."""
    parent = project_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{project_dir.name}.", dir=parent))
    try:
        for filename, text in files.items():
            (tmp / filename).write_text(text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        try:
            os.rename(tmp, project_dir)  # replaces an empty folder, fails on a full one
        except OSError:
            raise BadInput(
                f"{project_dir} already exists; dlrun new never overwrites a project",
                field="NAME",
            ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return project_dir


# --------------------------------------------------------------------------- helpers for the kinds


def resolve_target(columns: list[str], target: str | int | None) -> str:
    """The target column from ``--target``: a name, or an index (negative from the end)."""
    if target is None:
        return columns[-1]
    if isinstance(target, str) and target in columns:
        return target
    try:
        index = int(str(target).strip())
    except ValueError:
        index = None
    if index is not None and -len(columns) <= index < len(columns):
        return columns[index]
    raise ArgumentError(
        f"no column '{target}' (name or index from {-len(columns)} to {len(columns) - 1}); "
        f"the columns are: {', '.join(columns)}",
        field="--target",
    )


# --------------------------------------------------------------------------- README


def render_readme(spec: dict[str, Any], draft: Draft, project_dir: Path) -> str:
    """The project README from its spec document (see :func:`spec_document_of`)."""
    template = string.Template((templates_dir() / README_TEMPLATE).read_text(encoding="utf-8"))
    task, metric_name = spec["task"], spec["metric"]
    metric = METRICS.get(metric_name)
    direction = "higher is better" if metric.greater_is_better else "lower is better"
    task_phrase = KINDS.get(spec["kind"]).task_phrase(task)

    score = []
    ref = spec.get("reference")
    if ref is not None:
        where = f" ({ref['protocol']})" if ref.get("protocol") else ""
        if ref.get("naive") is not None:
            score.append(f"   - Naive baseline: **{ref['naive']:g}** {ref['metric']}{where}.")
        if ref.get("good") is not None:
            model = f", {ref['good_model']}" if ref.get("good_model") else ""
            score.append(f"   - A good published result: **{ref['good']:g}** {ref['metric']}{model}.")
        if ref["metric"] != metric_name:
            score.append(
                f"   - These published scores use {ref['metric']}, not {metric_name}: "
                "compare with care."
            )
        if ref.get("source"):
            score.append(f"   - Source: {ref['source']}")
    else:
        naive = ("always predicting the majority class" if task == CLASSIFICATION
                 else "the naive prediction of a number")
        score.append(
            f"   - The `baseline` row of the leaderboard ({naive}) is the floor; a useful model "
            "beats it by a margin that matters here."
        )
    score.append("   - What score would make the predictions worth using?")

    data_lines = list(draft.data_lines)
    data_lines.extend(f"- {note}" for note in draft.notes)
    summary = spec.get("description") or f"A {task} project made with `dlrun new`."
    return template.safe_substitute(
        title=spec["name"],
        summary=summary,
        target=spec["data"]["target"],
        task_phrase=task_phrase,
        metric=metric_name,
        direction=direction,
        score_lines="\n".join(score),
        data_lines="\n".join(data_lines),
        project_path=project_dir.as_posix(),
    )
