"""The catalogue: what a pluggable part is, and the registries that hold them.

A leaf module: it imports nothing of dlrun but :mod:`dlrun.registry`, and
nothing registers itself by being imported. :mod:`dlrun.plugins` fills the
registries once from entry points (dlrun's own built-ins are entry points too).

Compatibility is by type, never by name: a **view** says what it hands to a
model (its ``provides``: a ``table`` of numbers, a ``grid`` of pixels, a
``sequence`` of time steps, the raw ``history`` of a series, a ``sparse`` matrix of
term weights, padded ``tokens`` ids, ...) and an
**algorithm** says what it ``accepts`` and which targets it predicts (class
labels, numbers). The evaluation grid is every (algorithm, view) pair whose
types meet, for the project's task.

A **kind** of data (the ``kind:`` of project.yaml) is an object implementing
:class:`dlrun.kind.Kind`: loading, resampling, assembling estimators, the
scaffold draft, predict inputs and report sections of its data. The core asks
the registry; it never names a kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dlrun.registry import Registry

#: The task every kind of labelled data shares; any other task predicts numbers.
CLASSIFICATION = "classification"

#: Targets an algorithm can predict.
CLASS = "class"
NUMBER = "number"

#: Input types (what views provide, what algorithms accept).
TABLE = "table"  # rows x numeric features
GRID = "grid"  # rows x height x width x channels (pixels), flattened or not
SEQUENCE = "sequence"  # rows x time steps x channels, time-ordered rows
HISTORY = "history"  # the raw, time-ordered observations themselves
SPARSE = "sparse"  # a sparse matrix of term weights, rows x vocabulary (documents)
TOKENS = "tokens"  # rows x token ids, padded with 0 (documents as word sequences)

#: Roles in the catalogue: the naive floor, other naive floors, the bar, the nets.
BASELINE, NAIVE, BAR, NET, MODEL = "baseline", "naive", "bar", "net", "model"

def is_classification(task: str) -> bool:
    return task == CLASSIFICATION


def target_of(task: str) -> str:
    """What a task predicts: class labels, or numbers (every task but classification)."""
    return CLASS if is_classification(task) else NUMBER


@dataclass(frozen=True)
class BuildContext:
    """What a builder may know about the problem when it makes an estimator."""

    task: str
    metric: str
    seed: int
    n_rows: int = 0
    n_features: int = 0
    n_classes: int = 0
    input: str = TABLE  # the type the view hands to the model (see ViewInfo.provides)
    view: str = ""
    # what the view adds about its output (ViewInfo.traits)
    traits: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # facts of the data a kind passes on (input shape, lag window, ...)
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def classification(self) -> bool:
        return is_classification(self.task)


@dataclass(frozen=True)
class AlgorithmInfo:
    """A catalogued algorithm: ``build(context, **params)`` returns an unfitted estimator.

    Its parameters and their defaults are the keyword parameters of the callable
    that ``signature(context)`` returns (by default ``build`` itself): one source
    for defaults, read by the spec check, the evaluation and the tuner alike.
    """

    name: str
    build: Callable[..., Any]
    targets: frozenset[str]
    accepts: tuple[str, ...]
    role: str = MODEL
    description: str = ""
    slow: bool = False  # trains on a subsample of large training folds
    #: left out of the default suite: evaluated when project.yaml's ``algorithms:`` or
    #: ``--only`` names it (breadth that rarely wins, or that costs more than it usually buys)
    opt_in: bool = False
    max_train_rows: int | None = None  # that subsample's size (default 20,000 when slow)
    version: int = 1  # bump when the builder changes so cached results are redone
    signature: Callable[[BuildContext], Callable[..., Any]] | None = None
    #: what the fitted model is not changed by: e.g. {"monotone"} for trees
    invariances: frozenset[str] = frozenset()
    rank: int = 100  # place in listings
    #: qualified names of classes of its own a saved model of it holds (dlrun.modelfile)
    trusted_types: tuple[str, ...] = ()

    def handles(self, task: str) -> bool:
        return target_of(task) in self.targets

    def input_for(self, provides: tuple[str, ...]) -> str | None:
        """The first type this algorithm accepts that a view provides (None: incompatible)."""
        return next((t for t in self.accepts if t in provides), None)

    def defaults(self, context: BuildContext) -> dict[str, Any]:
        source = self.signature(context) if self.signature is not None else self.build
        return signature_defaults(source)

    def make(self, context: BuildContext, overrides: Mapping[str, Any] | None = None) -> Any:
        return self.build(context, **{**self.defaults(context), **(overrides or {})})

    def check(self, context: BuildContext, overrides: Mapping[str, Any]) -> None:
        """Raise :class:`ParameterError` naming the parameter when a value is unusable: of
        another type than its default, or refused by the estimator's own parameter
        constraints (scikit-learn's ``_validate_params``) -- before any fit."""
        defaults = self.defaults(context)
        for key, value in overrides.items():
            problem = _type_problem(value, defaults.get(key))
            if problem:
                raise ParameterError(key, f"{problem}, got {value!r}")
        try:
            estimator = self.make(context, overrides)
        except (TypeError, ValueError) as err:
            raise ParameterError(_parameter_named(err, overrides), str(err)) from None
        for part in _parts(estimator):
            validate = getattr(part, "_validate_params", None)
            if callable(validate) and hasattr(part, "_parameter_constraints"):
                try:
                    validate()
                except (TypeError, ValueError) as err:  # sklearn's InvalidParameterError
                    raise ParameterError(_parameter_named(err, overrides), str(err)) from None


class ParameterError(ValueError):
    """A parameter value an algorithm cannot use (``name`` is the parameter)."""

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(message)


def _type_problem(value: Any, default: Any) -> str:
    """Why ``value`` cannot stand where ``default`` stands ('' when it can). Only the
    obvious: a number's default wants a finite number, a flag's a boolean, a list's a list;
    finer constraints are the estimator's own."""
    import math

    if default is None or value is None:
        return ""
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else "expected true or false"
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "expected a number"
        return "" if math.isfinite(value) else "expected a finite number"
    if isinstance(default, (list, tuple)):
        return "" if isinstance(value, (list, tuple)) else "expected a list"
    return ""


def _parameter_named(err: Exception, overrides: Mapping[str, Any]) -> str:
    text = str(err)
    for key in overrides:
        if f"'{key}'" in text or f" {key} " in text or f"{key}=" in text:
            return key
    return next(iter(overrides), "")


def _parts(estimator: Any):
    """The estimator and the estimators inside it (pipelines, wrappers)."""
    seen, stack = set(), [estimator]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None:
            continue
        seen.add(id(obj))
        yield obj
        params = getattr(obj, "get_params", None)
        if callable(params):
            try:
                for value in params(deep=False).values():
                    # a pipeline's steps: a list of (name, estimator) pairs
                    items = value if isinstance(value, (list, tuple)) else [value]
                    items = [i[-1] if isinstance(i, tuple) and i else i for i in items]
                    stack.extend(i for i in items if hasattr(i, "get_params"))
            except Exception:  # noqa: BLE001 - a half-built estimator: skip its parts
                continue


#: Constructor arguments that dlrun sets itself, never a user (seeds, threads, class counts);
#: an estimator class adds its own in ``_managed`` (input shapes, augmentation, ...).
MANAGED = frozenset({"self", "seed", "random_state", "n_jobs", "n_classes", "verbose", "verbosity"})


def signature_defaults(source: Callable[..., Any]) -> dict[str, Any]:
    """The keyword parameters of ``source`` and their defaults (dlrun-managed ones left out)."""
    import inspect

    target = source.__init__ if inspect.isclass(source) else source
    managed = MANAGED | set(getattr(source, "_managed", ()))
    out = {}
    for name, param in inspect.signature(target).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name in managed:
            continue
        if param.default is param.empty:
            continue  # the context (positional) and anything required
        out[name] = param.default
    return out


@dataclass(frozen=True)
class ViewInfo:
    """A data-preparation view of one kind: ``build(roles)`` returns a transformer, fitted
    inside each training fold. ``roles`` maps column roles to names ({"numeric": [...]})."""

    name: str
    build: Callable[..., Any]
    kind: str
    provides: tuple[str, ...] = (TABLE,)
    traits: Mapping[str, Any] = field(default_factory=dict, hash=False)
    description: str = ""
    version: int = 1
    rank: int = 100  # place in listings


@dataclass(frozen=True)
class Metric:
    """A metric: ``fn(y_true, y_pred, y_score, n_classes) -> float``."""

    name: str
    fn: Callable[..., float]
    greater_is_better: bool
    classification: bool  # scores class labels (else numbers, in the target's units)
    needs_score: bool = False  # needs probabilities / decision scores
    needs_proba: bool = False  # needs calibrated probabilities (log loss)
    label: str = ""
    rank: int = 100  # place in listings

    def suits(self, task: str) -> bool:
        """Whether the metric scores this task's targets (a kind may allow fewer, Kind.metrics)."""
        return self.classification == is_classification(task)


@dataclass(frozen=True)
class ReportSection:
    """A report section: ``build(report_context) -> list of dlrun.report.model.Section``."""

    name: str
    build: Callable[..., Any]
    order: int = 50


KINDS: Registry[Any] = Registry("kind", "dlrun.kinds")
ALGORITHMS: Registry[AlgorithmInfo] = Registry("algorithm", "dlrun.algorithms")
VIEWS: Registry[ViewInfo] = Registry("view", "dlrun.views")
METRICS: Registry[Metric] = Registry("metric", "dlrun.metrics")
STAGES: Registry[Any] = Registry("stage", "dlrun.stages")
REPORT_SECTIONS: Registry[ReportSection] = Registry("report section", "dlrun.report_sections")

REGISTRIES: tuple[Registry, ...] = (KINDS, ALGORITHMS, VIEWS, METRICS, STAGES, REPORT_SECTIONS)


def views_for(kind: str) -> list[str]:
    return [n for n, v in VIEWS.items() if v.kind == kind]


def provided_by(kind: str, views: list[str] | None = None) -> set[str]:
    """Every input type the kind's views (or the given ones) provide."""
    names = views if views is not None else views_for(kind)
    return {t for n in names if n in VIEWS for t in VIEWS.get(n).provides}


def algorithms_for(task: str, kind: str, views: list[str] | None = None, *,
                   default_suite: bool = False) -> list[str]:
    """Algorithms that predict the task's targets from something the kind's views provide
    (``default_suite``: only those evaluated when no algorithm is named, not the opt-in ones)."""
    types = provided_by(kind, views)
    return [n for n, a in ALGORITHMS.items() if a.handles(task) and set(a.accepts) & types
            and not (default_suite and a.opt_in)]


def compatible(algorithm: str, view: str) -> str | None:
    """The input type of the pair (None when the view gives nothing the algorithm reads)."""
    return ALGORITHMS.get(algorithm).input_for(VIEWS.get(view).provides)


def equivalent_views(algorithm: str, views: list[str]) -> list[list[str]]:
    """The views compatible with ``algorithm``, grouped by the model it would fit on them: an
    algorithm that ignores its inputs (invariance ``inputs``) fits one model whatever the
    view; one invariant to order-keeping transforms of each column (``monotone``: trees,
    boosting) fits the same model on every view whose trait ``monotone`` says it is such a
    transform of the same data, and one invariant to positive affine maps of each column
    (``affine``: the tabular MLP's robust scaling) on every view whose trait ``affine`` says
    so. Each group is evaluated once, on its first view."""
    info = ALGORITHMS.get(algorithm)
    groups: dict[tuple, list[str]] = {}
    for view in views:
        chosen = info.input_for(VIEWS.get(view).provides)
        if chosen is None:
            continue
        traits = VIEWS.get(view).traits
        if "inputs" in info.invariances:
            key: tuple = ("inputs", chosen)
        elif "monotone" in info.invariances and traits.get("monotone"):
            key = ("monotone", chosen)
        elif "affine" in info.invariances and traits.get("affine"):
            key = ("affine", chosen)
        else:
            key = ("view", view)
        groups.setdefault(key, []).append(view)
    return list(groups.values())


def pair_context(context: BuildContext, algorithm: str, view: str) -> BuildContext:
    """``context`` for one (algorithm, view) pair: the input type they meet on, the view's traits."""
    from dataclasses import replace

    info, view_info = ALGORITHMS.get(algorithm), VIEWS.get(view)
    chosen = info.input_for(view_info.provides)
    if chosen is None:
        raise ValueError(f"{algorithm} reads none of what the '{view}' view provides "
                         f"({', '.join(view_info.provides)})")
    return replace(context, input=chosen, view=view, traits=view_info.traits)


def metrics_for(task: str, kind: str | None = None) -> list[str]:
    """Metrics that score the task's targets, among those the kind allows for it."""
    names = [n for n, m in METRICS.items() if m.suits(task)]
    allowed = KINDS.get(kind).metrics(task) if kind is not None and kind in KINDS else None
    return names if allowed is None else [n for n in names if n in allowed]


def role_of(algorithm: str) -> str:
    """The catalogue role of a leaderboard name (``xgboost+tuned`` -> xgboost's role)."""
    name = str(algorithm).split("+", 1)[0]
    return ALGORITHMS.get(name).role if name in ALGORITHMS else MODEL


@dataclass
class Catalogue:
    """A snapshot of the registries, as ``dlrun catalogue`` shows them."""

    kinds: list[Any] = field(default_factory=list)
    algorithms: list[AlgorithmInfo] = field(default_factory=list)
    views: list[ViewInfo] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)


def snapshot() -> Catalogue:
    return Catalogue(KINDS.values(), ALGORITHMS.values(), VIEWS.values(), METRICS.values())
