"""The project spec: one pydantic schema for ``project.yaml`` and one loader.

Unknown keys are rejected everywhere (``extra="forbid"``) and every error names
its YAML path (``evaluation.folds``) and what is expected. ``load_spec`` is the
only way a spec is read; there are no fix-ups elsewhere.

No ``from __future__ import annotations`` here: pydantic would then have to
evaluate every annotation from its string, which made importing this module
(on the path of `dlrun new`) about 80 ms slower.
"""

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dlrun.errors import SpecError
from dlrun.evaluation.protocol import DEFAULT_FOLDS, DEFAULT_REPEATS
from dlrun.specdoc import DEFAULT_MISSING, SPEC_FILE, dump_document

TASKS = ("classification", "regression", "forecasting")
Task = Literal["classification", "regression", "forecasting"]
DataFormat = Literal["auto", "csv", "parquet", "npz", "sklearn", "images"]


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
        default_factory=lambda: list(DEFAULT_MISSING),
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

    folds: int = Field(DEFAULT_FOLDS, ge=2, le=100, description="k in repeated k-fold cross-validation.")
    repeats: int = Field(DEFAULT_REPEATS, ge=1, le=100, description="How many times the k folds are redrawn.")
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


class AugmentSpec(StrictModel):
    """Training-time augmentation of images (Keras preprocessing layers, inactive at inference)."""

    flip: Literal["none", "horizontal", "vertical", "both"] = Field(
        "horizontal", description="Random flips ('none' for digits and text-like images)."
    )
    shift: float = Field(0.1, ge=0.0, le=0.5, description="Random shift, as a fraction of height/width.")
    rotation: float = Field(
        0.05, ge=0.0, le=0.5, description="Random rotation, as a fraction of a full turn (0.05 = 18 degrees)."
    )


class ImageSpec(StrictModel):
    """How images are read (kind: image): the size they are resized to, and augmentation."""

    image_size: list[int] | None = Field(
        None, min_length=2, max_length=2,
        description="[height, width] every image is resized to (default: inferred by `dlrun new`).",
    )
    channels: Literal[1, 3] | None = Field(None, description="1 (greyscale) or 3 (colour).")
    augment: bool | AugmentSpec = Field(
        True, description="Augmentation used by the 'augment' view (true: the defaults; false: none)."
    )

    @field_validator("image_size")
    @classmethod
    def _size(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 4 <= v <= 1024 for v in value):
            raise ValueError("each side must be between 4 and 1024 pixels")
        return value


class TimeSeriesSpec(StrictModel):
    """A time series (kind: timeseries) and its walk-forward protocol; unset values are
    inferred from the data (see dlrun.timeseries.data)."""

    time_column: str | None = Field(
        None, description="Column with the dates/times (default: the first column when it is "
        "not a series); values that do not parse as dates are read as an ordered index."
    )
    frequency: Literal["auto", "minutely", "hourly", "daily", "weekly", "monthly", "quarterly",
                       "yearly", "none"] = Field(
        "auto", description="Spacing of the observations ('auto': inferred from the time column)."
    )
    period: int | None = Field(
        None, ge=1, le=1000, description="Season length in steps (default from the frequency: "
        "12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly; 1 = no season)."
    )
    window: int | None = Field(
        None, ge=1, le=1000, description="Lag-window width (past steps the models see; default: "
        "one season, at least 3)."
    )
    test_size: int | None = Field(
        None, ge=1, description="N: walk-forward over the last N observations (default: one "
        "season when it is 12 or more steps, else 10% of the series, at most 365)."
    )
    horizon: int = Field(1, ge=1, le=1000, description="Forecast this many steps ahead.")
    origins: int = Field(
        1, ge=1, le=50, description="Walk-forward windows: the last N observations, then the N "
        "before them, ...; each is one fold fitted on everything before it."
    )
    seeds: int = Field(
        3, ge=1, le=30, description="Runs per algorithm, each with its own seed: nets vary run "
        "to run, so a row is the mean over seeds and its spread is shown."
    )


class ProjectSpec(StrictModel):
    """A predictive-modelling project: data, target, task, metric and protocol."""

    name: str = Field(description="Project name: letters, digits, '-', '_' and '.'.")
    description: str = ""
    kind: Literal["tabular", "image", "timeseries", "text"] = Field(
        "tabular", description="Kind of data: decides the data source, views, algorithms and resampling."
    )
    task: Task = Field(description="classification, regression or forecasting.")
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
    images: ImageSpec | None = Field(None, description="Image reading and augmentation (kind: image).")
    series: TimeSeriesSpec | None = Field(
        None, description="Time column and walk-forward protocol (kind: timeseries)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError("use letters, digits, '-', '_' or '.', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _check_images(self) -> "ProjectSpec":
        if self.images is not None and self.kind != "image":
            raise _field_error("images", "only applies to projects of kind: image", [])
        return self

    @model_validator(mode="after")
    def _check_series(self) -> "ProjectSpec":
        if self.series is not None and self.kind != "timeseries":
            raise _field_error("series", "only applies to projects of kind: timeseries", [])
        if (self.task == "forecasting") != (self.kind == "timeseries"):
            raise _field_error("task", "a forecasting task needs kind: timeseries, and kind: "
                               "timeseries needs task: forecasting", [])
        return self

    @model_validator(mode="after")
    def _check_names(self) -> "ProjectSpec":
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


def parse_spec(data: Any, *, origin: str = SPEC_FILE) -> "ProjectSpec":
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
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return parse_spec(data, origin=str(path)), path.parent.resolve()


def spec_as_document(spec: ProjectSpec) -> dict[str, Any]:
    """The spec as ``project.yaml`` holds it: every key, unset optional ones left out
    (the same document :func:`dlrun.specdoc.spec_document` lays out without pydantic)."""
    return spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def dump_spec(spec: ProjectSpec) -> str:
    return dump_document(spec_as_document(spec))


def json_schema() -> dict[str, Any]:
    schema = ProjectSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlrun project.yaml"
    return schema
