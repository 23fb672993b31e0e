"""The project spec: one pydantic schema for ``project.yaml`` and one loader.

Unknown keys are rejected everywhere (``extra="forbid"``) and every error names
its YAML path (``evaluation.folds``) and what is expected. ``load_spec`` is the
only way a spec is read; there are no fix-ups elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dlrun.errors import SpecError

SPEC_FILE = "project.yaml"
TASKS = ("classification", "regression")
Task = Literal["classification", "regression"]
DataFormat = Literal["auto", "csv", "parquet", "npz", "sklearn"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSpec(StrictModel):
    """Where the data is and how to read it."""

    source: str = Field(
        description="Path to the data, relative to the project folder (or absolute), "
        "or 'sklearn:NAME' for a dataset bundled with scikit-learn."
    )
    format: DataFormat = Field("auto", description="File format; 'auto' guesses from the source.")
    header: bool = Field(True, description="Whether the first row of a CSV holds column names.")
    delimiter: str = Field(",", description="CSV field delimiter.", min_length=1, max_length=1)
    missing: list[str] = Field(
        default_factory=lambda: ["?", "NA", ""],
        description="Strings that mean 'missing value' in the file.",
    )
    columns: list[str] | None = Field(
        None, description="Column names, for a file without a header row (in file order)."
    )
    target: str = Field(description="The column to predict.")
    categorical: list[str] = Field(
        default_factory=list,
        description="Columns to treat as categorical even though they hold numbers.",
    )
    drop: list[str] = Field(
        default_factory=list, description="Columns to ignore (identifiers, leaks)."
    )

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            seen = set()
            for name in value:
                if name in seen:
                    raise ValueError(f"column name '{name}' appears twice")
                seen.add(name)
        return value


class EvaluationSpec(StrictModel):
    """The resampling protocol used to compare algorithms."""

    folds: int = Field(10, ge=2, le=100, description="k in repeated k-fold cross-validation.")
    repeats: int = Field(3, ge=1, le=100, description="How many times the k folds are redrawn.")
    seed: int = Field(1, ge=0, description="Seed for the folds and every algorithm.")
    max_rows: int | None = Field(
        None,
        ge=100,
        description="Rows above which slow algorithms are evaluated on a subsample "
        "(default: chosen from the data size).",
    )


class ReferenceSpec(StrictModel):
    """The published scores of a standard dataset (filled in by `dlrun new`)."""

    dataset: str
    metric: str
    protocol: str = ""
    naive: float | None = None
    good: float | None = None
    good_model: str = ""
    source: str = ""


class ProjectSpec(StrictModel):
    """A predictive-modelling project: data, target, task, metric and protocol."""

    name: str = Field(description="Project name: letters, digits, '-', '_' and '.'.")
    description: str = ""
    kind: Literal["tabular", "image", "timeseries", "text"] = Field(
        "tabular", description="Kind of data: decides the data source, views, algorithms and resampling."
    )
    task: Task = Field(description="classification or regression.")
    data: DataSpec
    metric: str = Field(description="Metric that ranks the leaderboard.")
    views: list[str] | None = Field(
        None, description="Data-preparation views to evaluate (default: all for the data kind)."
    )
    algorithms: list[str] | None = Field(
        None, description="Algorithms to spot-check (default: the whole catalogue for the task)."
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-algorithm parameter overrides, e.g. {mlp: {epochs: 50}}.",
    )
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    reference: ReferenceSpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError("use letters, digits, '-', '_' or '.', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _check_names(self) -> ProjectSpec:
        from dlrun.catalogue import ALGORITHMS, METRICS, VIEWS

        if self.metric not in METRICS:
            raise _field_error("metric", f"unknown metric '{self.metric}'", METRICS.names())
        if self.task not in METRICS.get(self.metric).tasks:
            usable = [n for n, m in METRICS.items() if self.task in m.tasks]
            raise _field_error("metric", f"'{self.metric}' does not suit a {self.task} task", usable)
        for i, view in enumerate(self.views or []):
            if view not in VIEWS:
                raise _field_error(f"views[{i}]", f"unknown view '{view}'", VIEWS.names())
        for i, algo in enumerate(self.algorithms or []):
            if algo not in ALGORITHMS:
                raise _field_error(f"algorithms[{i}]", f"unknown algorithm '{algo}'", ALGORITHMS.names())
            if self.task not in ALGORITHMS.get(algo).tasks:
                raise _field_error(f"algorithms[{i}]", f"'{algo}' does not do {self.task}", [])
        for algo, overrides in self.params.items():
            if algo not in ALGORITHMS:
                raise _field_error(f"params.{algo}", f"unknown algorithm '{algo}'", ALGORITHMS.names())
            known = ALGORITHMS.get(algo).defaults
            for key in overrides:
                if known and key not in known:
                    raise _field_error(
                        f"params.{algo}.{key}", f"'{algo}' has no parameter '{key}'", sorted(known)
                    )
        return self


class _FieldError(ValueError):
    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


def _field_error(path: str, message: str, choices: list[str]) -> _FieldError:
    if choices:
        message = f"{message}; expected one of: {', '.join(sorted(choices))}"
    return _FieldError(path, message)


def _format_validation_error(err: ValidationError) -> str:
    problems = []
    for item in err.errors():
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in item["loc"])
        path = path.replace(".[", "[")
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _FieldError):
            path, message = ctx_error.path, str(ctx_error)
        else:
            message = item["msg"]
            if item["type"] == "extra_forbidden":
                message = "unknown key (check its spelling; see `dlrun schema`)"
            elif item["type"] == "missing":
                message = "required key is missing"
            elif message.startswith("Value error, "):
                message = message[len("Value error, ") :]
        problems.append(f"{path or '(top level)'}: {message}")
    return "; ".join(problems)


def spec_path(project: str | Path) -> Path:
    """Accept a project folder or its project.yaml."""
    path = Path(project)
    if path.is_dir():
        path = path / SPEC_FILE
    return path


def parse_spec(data: Any, *, origin: str = SPEC_FILE) -> ProjectSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{origin} must hold a mapping of keys (name, task, data, metric, ...)")
    try:
        return ProjectSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(
            f"{origin} is not valid: {_format_validation_error(err)}.",
            hint="Fix the file and run `dlrun validate` again.",
        ) from None


def load_spec(project: str | Path) -> tuple[ProjectSpec, Path]:
    """Read and validate a project's spec; returns the spec and the project folder."""
    import yaml

    path = spec_path(project)
    if not path.is_file():
        raise SpecError(
            f"no {SPEC_FILE} at {path}",
            field="PROJECT",
            hint="Pass a project folder made by `dlrun new` or its project.yaml.",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return parse_spec(data, origin=str(path)), path.parent.resolve()


def dump_spec(spec: ProjectSpec) -> str:
    import yaml

    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def json_schema() -> dict[str, Any]:
    schema = ProjectSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlrun project.yaml"
    return schema
