"""Tuning: an Optuna study per candidate, every trial one more user of the evaluation core.

A trial is a candidate with suggested parameters, evaluated by
:func:`dlrun.evaluation.runner.run_grid` on the same folds as the leaderboard,
through the same job path and executors, its fits stored like every other fit
(so a trial interrupted half-way resumes from its finished folds: the store keys
fits by their parameters). Each finished fold reports the running mean to the
trial (:class:`PruneCallback`); the pruner (median by default) stops hopeless
trials after a fold, through the callbacks' :class:`StopCandidate`.

The study lives in the project (``.dlrun/tuning.sqlite``, Optuna's RDB storage) or
wherever ``--storage`` points (a PostgreSQL URL lets several machines share it);
a second call adds trials to the same study.

Selection is honest: the best trial's score on the folds that chose it is
optimistic (the maximum of many noisy estimates), so the ``ALGO+tuned`` row of
the leaderboard is that trial's parameters re-scored on a *fresh* resampling
(same protocol, another seed); the tuning score is kept beside it, and the
difference is the optimism the selection had added.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from dlrun.catalogue import METRICS
from dlrun.evaluation.callbacks import Callback, StopCandidate

#: The fresh resampling of a tuned candidate uses the project's seed plus this.
FRESH_SEED_OFFSET = 1000
HEARTBEAT_SECONDS = 30
PRUNED = "pruned by the median rule"


class PruneCallback(Callback):
    """Reports each finished fold's running mean to an Optuna trial; stops the candidate
    when the pruner says the trial cannot catch up."""

    def __init__(self, trial, metric: str):
        self.trial = trial
        self.metric = metric
        self.scores: list[float] = []

    def on_job_end(self, job, result, reused) -> None:
        value = (result.get("metrics") or {}).get(self.metric)
        if value is None or not math.isfinite(value):
            return
        self.scores.append(float(value))
        self.trial.report(sum(self.scores) / len(self.scores), step=len(self.scores))
        if self.trial.should_prune():
            raise StopCandidate(PRUNED)


def suggest(trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Parameters for a trial from a search space (``{type, low, high, log}`` /
    ``{type: categorical, choices}`` per parameter)."""
    params = {}
    for name, dist in space.items():
        kind = dist["type"]
        if kind == "int":
            params[name] = trial.suggest_int(name, int(dist["low"]), int(dist["high"]),
                                             log=bool(dist.get("log", False)))
        elif kind == "float":
            params[name] = trial.suggest_float(name, float(dist["low"]), float(dist["high"]),
                                               log=bool(dist.get("log", False)))
        else:
            params[name] = trial.suggest_categorical(name, list(dist["choices"]))
    return params


@dataclass
class StudyResult:
    """What ``dlrun tune --json`` prints for one study."""

    algorithm: str
    view: str
    name: str
    trials: int  # finished trials of the study so far (completed and pruned)
    best: float | None
    best_params: dict[str, Any] = field(default_factory=dict)
    pruned: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "view": self.view, "study": self.name,
                "trials": self.trials, "pruned": self.pruned, "best": self.best,
                "best_params": self.best_params, "seconds": round(self.seconds, 2)}


def direction(metric: str) -> str:
    return "maximize" if METRICS.get(metric).greater_is_better else "minimize"


def open_study(name: str, storage: str, metric: str, seed: int):
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # dlrun reports failed trials itself
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # Several processes may open one study on a fresh database at once (a shared
    # PostgreSQL storage): creating its tables or the study can then collide; try again.
    for attempt in range(10):
        try:
            # a heartbeat marks the trials of a process that died (SIGKILL, a lost machine)
            # as failed, so another call can resume them
            rdb = optuna.storages.RDBStorage(storage, heartbeat_interval=HEARTBEAT_SECONDS,
                                             grace_period=3 * HEARTBEAT_SECONDS)
            study = optuna.create_study(
                study_name=name, storage=rdb, direction=direction(metric), load_if_exists=True,
                sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
            )
            break
        except Exception as err:  # noqa: BLE001 - sqlalchemy's and optuna's collision errors
            if attempt == 9 or not _collision(err):
                raise
            time.sleep(0.2 * (attempt + 1))
    optuna.storages.fail_stale_trials(study)
    return study


def _collision(err: Exception) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return any(word in text for word in ("duplicate", "unique", "integrity", "already exists",
                                         "locked", "deadlock"))


def finished_trials(study) -> tuple[int, int]:
    """(finished trials: completed or pruned, of which pruned)."""
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    complete = sum(s == TrialState.COMPLETE for s in states)
    pruned = sum(s == TrialState.PRUNED for s in states)
    return complete + pruned, pruned


def resume_interrupted(study) -> int:
    """Trials an earlier call left failed (an interrupt; a killed process's, once its
    heartbeat stopped): their parameters are queued again once, so the next trial re-uses
    their finished folds from the store. Returns how many were queued."""
    from optuna.trial import TrialState

    handled = set(study.user_attrs.get("resumed", []))
    again = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.params and trial.number not in handled:
            study.enqueue_trial(trial.params, skip_if_exists=True)
            handled.add(trial.number)
            again += 1
    if again:
        study.set_user_attr("resumed", sorted(handled))
    return again
