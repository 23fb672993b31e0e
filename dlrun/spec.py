"""The project spec: one pydantic schema for ``project.yaml`` and one loader.

Unknown keys are rejected everywhere (``extra="forbid"``) and every error names
its YAML path (``evaluation.folds``) and what is expected. ``load_spec`` is the
only way a spec is read; there are no fix-ups elsewhere.

No ``from __future__ import annotations`` here: pydantic would then have to
evaluate every annotation from its string, which made importing this module
(on the path of `dlrun new`) about 80 ms slower.
"""

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, VIEWS, algorithms_for, metrics_for
from dlrun.errors import SpecError
from dlrun.plugins import default_kind, load_plugins
from dlrun.protocol import DEFAULT_FOLDS, DEFAULT_REPEATS
from dlrun.specdoc import DEFAULT_MISSING, SPEC_FILE, dump_document

#: Formats every kind's reader knows; kinds add their own (Kind.formats).
FORMATS = ("auto", "csv", "parquet", "sklearn")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSpec(StrictModel):
    """Where the data is and how to read it."""

    source: str = Field(
        description="Path to the data, relative to the project folder (or absolute), "
        "or 'sklearn:NAME' for a dataset bundled with scikit-learn."
    )
    format: str = Field(
        "auto", description="File format: auto (guessed from the source), csv, parquet, sklearn, "
        "or one a kind of data reads (see `dlrun catalogue`)."
    )
    header: bool = Field(True, description="Whether the first row of a CSV holds column names.")
    delimiter: str = Field(",", description="CSV field delimiter.", min_length=1, max_length=1)
    decimal: str = Field(
        ".", description="Decimal mark of the numbers in a CSV ('.', or ',' as in 33,6).",
        pattern=r"^[.,]$",
    )
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
    sample: int | None = Field(
        None, ge=2, description="Read only this many rows, drawn at random (seeded) from the file: "
        "for data too large for memory."
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        known = list(FORMATS) + [f for kind in KINDS.values() for f in getattr(kind, "formats", ())]
        if value not in known:
            raise ValueError(f"unknown format '{value}'; expected one of: {', '.join(known)}")
        return value

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
    fit_timeout: float | None = Field(
        None, gt=0, description="Seconds after which one fit is stopped and reported as failed "
        "(the run goes on): a guard against a runaway fit."
    )


class SearchDistribution(StrictModel):
    """One parameter's range for `dlrun tune`: ``{type: int|float, low, high, log}`` or
    ``{type: categorical, choices: [...]}``."""

    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> "SearchDistribution":
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical range needs choices")
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError("a numeric range needs low < high")
        elif self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class TuningSpec(StrictModel):
    """How `dlrun tune` improves the best candidates (command-line options override these)."""

    top: int = Field(3, ge=1, le=50, description="How many of the best algorithms to tune.")
    trials: int = Field(20, ge=1, le=10_000, description="Trials per study and call.")
    timeout: float | None = Field(None, gt=0, description="Seconds for the whole call.")
    search: dict[str, dict[str, SearchDistribution]] = Field(
        default_factory=dict,
        description="Search spaces replacing configs/search_spaces.yaml's, per algorithm: "
        "{xgboost: {max_depth: {type: int, low: 2, high: 8}}}.",
    )


class LearningCurveSpec(StrictModel):
    """Learning curves (`dlrun evaluate` computes them when this block is present, as with
    `--learning-curve`): skill against training-set size for the best classical candidate,
    the best net and the bar, on the leaderboard's folds."""

    fractions: list[float] = Field(
        default_factory=lambda: [0.1, 0.2, 0.4, 0.7, 1.0], min_length=2,
        description="Fractions of each training fold to train on (test folds untouched); "
        "100% is always added.",
    )

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        for fraction in value:
            if not 0 < fraction <= 1:
                raise ValueError(f"{fraction} is not a fraction in (0, 1]")
        return sorted(set(value))


class ReferenceSpec(StrictModel):
    """The published scores of a standard dataset (filled in by `dlrun new`)."""

    dataset: str
    metric: str
    protocol: str = ""
    naive: float | None = None
    good: float | None = None
    good_model: str = ""
    source: str = ""


class ProjectSpecBase(StrictModel):
    """A predictive-modelling project: data, target, task, metric and protocol.

    The full schema (:func:`spec_model`) adds one optional block per kind of data
    that has options of its own (``Kind.spec_block``)."""

    name: str = Field(max_length=100, description="Project name: letters, digits, '-', '_' and '.'.")
    description: str = ""
    kind: str = Field(
        default_factory=default_kind,
        description="Kind of data (`dlrun catalogue` lists them): decides the data source, "
        "views, algorithms and resampling.",
    )
    task: str = Field(description="What to predict; the kind of data says which tasks it offers.")
    data: DataSpec
    metric: str = Field(description="Metric that ranks the leaderboard.")
    views: list[str] | None = Field(
        None, description="Data-preparation views to evaluate (default: all for the data kind)."
    )
    algorithms: list[str] | None = Field(
        None, description="Algorithms to spot-check (default: the catalogue's default suite for the "
                          "task; opt-in algorithms, marked in `dlrun catalogue`, only when listed here "
                          "or named by --only)."
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-algorithm parameter overrides, e.g. {mlp: {epochs: 50}}.",
    )
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    tuning: TuningSpec | None = Field(None, description="Search spaces and budget of `dlrun tune`.")
    learning_curve: LearningCurveSpec | None = Field(
        None, description="Learning curves computed by `dlrun evaluate` (see --learning-curve).")
    reference: ReferenceSpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError("use letters, digits, '-', '_' or '.', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _check(self) -> "ProjectSpecBase":
        if self.kind not in KINDS:
            raise _field_error("kind", f"unknown kind '{self.kind}'", KINDS.names())
        kind = KINDS.get(self.kind)
        if self.task not in kind.tasks:
            raise _field_error("task", f"'{self.task}' is not a task of kind {self.kind}", list(kind.tasks))
        for key, owner in block_owners().items():
            if getattr(self, key, None) is not None and owner != self.kind:
                raise _field_error(key, f"only applies to projects of kind: {owner}", [])
        if self.metric not in METRICS:
            raise _field_error("metric", f"unknown metric '{self.metric}'", METRICS.names())
        usable = metrics_for(self.task, self.kind)
        if self.metric not in usable:
            raise _field_error("metric", f"'{self.metric}' does not suit a {self.task} task", usable)
        own_views = [n for n, v in VIEWS.items() if v.kind == self.kind]
        for i, view in enumerate(self.views or []):
            if view not in own_views:
                what = "unknown view" if view not in VIEWS else f"view '{view}' is not of kind {self.kind}:"
                raise _field_error(f"views[{i}]", f"{what} '{view}'" if view not in VIEWS else what, own_views)
        usable_algorithms = algorithms_for(self.task, self.kind, self.views)
        for i, algo in enumerate(self.algorithms or []):
            if algo not in ALGORITHMS:
                raise _field_error(f"algorithms[{i}]", f"unknown algorithm '{algo}'", ALGORITHMS.names())
            if algo not in usable_algorithms:
                raise _field_error(f"algorithms[{i}]", f"'{algo}' cannot learn a {self.task} task from "
                                   f"the views of kind {self.kind}", usable_algorithms)
        for algo, overrides in self.params.items():
            if algo not in ALGORITHMS:
                raise _field_error(f"params.{algo}", f"unknown algorithm '{algo}'", ALGORITHMS.names())
            known = parameters_of(algo, self)
            for key in overrides:
                if key not in known:
                    raise _field_error(
                        f"params.{algo}.{key}", f"'{algo}' has no parameter '{key}'", sorted(known)
                    )
            check_parameters(algo, overrides, self)
        for algo, space in (self.tuning.search if self.tuning else {}).items():
            if algo not in ALGORITHMS:
                raise _field_error(f"tuning.search.{algo}", f"unknown algorithm '{algo}'", ALGORITHMS.names())
            known = parameters_of(algo, self)
            for key in space:
                if key not in known:
                    raise _field_error(f"tuning.search.{algo}.{key}", f"'{algo}' has no parameter '{key}'",
                                       sorted(known))
        kind.check_spec(self)
        return self


def block_owners() -> dict[str, str]:
    """project.yaml blocks that belong to one kind of data: key -> kind."""
    return {kind.block: name for name, kind in KINDS.items() if kind.block}


def parameters_of(algorithm: str, spec) -> dict[str, Any]:
    """The parameters (with defaults) ``algorithm`` takes in this project: those of what it
    builds from each input type the project's views provide."""
    from dlrun.catalogue import BuildContext, provided_by

    info = ALGORITHMS.get(algorithm)
    known: dict[str, Any] = {}
    for input_type in provided_by(spec.kind, spec.views):
        if input_type in info.accepts:
            ctx = BuildContext(task=spec.task, metric=spec.metric, seed=0, input=input_type)
            known.update(info.defaults(ctx))
    return known


def check_parameters(algorithm: str, overrides: dict[str, Any], spec) -> None:
    """Every override usable by what ``algorithm`` builds from this project's inputs, checked
    before any fit (the estimator's own constraints): errors name ``params.ALGO.KEY``."""
    from dlrun.catalogue import BuildContext, ParameterError, provided_by

    info = ALGORITHMS.get(algorithm)
    for input_type in sorted(provided_by(spec.kind, spec.views)):
        if input_type not in info.accepts:
            continue
        ctx = BuildContext(task=spec.task, metric=spec.metric, seed=0, input=input_type)
        usable = {k: v for k, v in overrides.items() if k in info.defaults(ctx)}
        if not usable:
            continue
        try:
            info.check(ctx, usable)
        except ParameterError as err:
            raise _field_error(f"params.{algorithm}.{err.name}" if err.name else f"params.{algorithm}",
                               str(err), []) from None


@cache
def _model(kinds: tuple[str, ...]) -> type[ProjectSpecBase]:
    fields: dict[str, Any] = {}
    for name in kinds:
        block = KINDS.get(name).spec_block()
        if block is not None:
            key, model = block
            fields[key] = (Optional[model], Field(None, description=f"{(model.__doc__ or '').strip()} (kind: {name})"))  # noqa: UP045
    return create_model("ProjectSpec", __base__=ProjectSpecBase, **fields)


def spec_model() -> type[ProjectSpecBase]:
    """The schema of project.yaml: the common keys and the installed kinds' blocks."""
    load_plugins()
    return _model(tuple(KINDS.names()))


ProjectSpec = ProjectSpecBase  # the type to annotate with; parse with spec_model()


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
        problems.append(f"{path or '(top level)'}: {message.rstrip('.')}")
    return "; ".join(problems)


def spec_path(project: str | Path) -> Path:
    """Accept a project folder or its project.yaml."""
    path = Path(project)
    if path.is_dir():
        path = path / SPEC_FILE
    return path


def parse_spec(data: Any, *, origin: str = SPEC_FILE) -> ProjectSpecBase:
    if not isinstance(data, dict):
        raise SpecError(f"{origin} must hold a mapping of keys (name, task, data, metric, ...)")
    try:
        return spec_model().model_validate(data)
    except ValidationError as err:
        raise SpecError(
            f"{origin} is not valid: {_format_validation_error(err)}.",
            hint="Fix the file and run `dlrun validate` again.",
        ) from None


def load_spec(project: str | Path) -> tuple[ProjectSpecBase, Path]:
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
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"{path} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at position "
                        f"{err.start})", field="PROJECT",
                        hint="Save project.yaml as UTF-8 (any editor can) and run the command again.") from None
    except OSError as err:
        raise SpecError(f"{path} cannot be read: {err.strerror or err}", field="PROJECT") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return parse_spec(data, origin=str(path)), path.parent.resolve()


def spec_as_document(spec: ProjectSpecBase) -> dict[str, Any]:
    """The spec as ``project.yaml`` holds it: every key, unset optional ones left out
    (the same document :func:`dlrun.specdoc.spec_document` lays out without pydantic)."""
    return spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def dump_spec(spec: ProjectSpecBase) -> str:
    return dump_document(spec_as_document(spec))


def json_schema() -> dict[str, Any]:
    schema = spec_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlrun project.yaml"
    return schema
