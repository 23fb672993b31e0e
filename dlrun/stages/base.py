from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrun.progress import Reporter
from dlrun.spec import ProjectSpec

STATE_DIR = ".dlrun"


@dataclass
class RunContext:
    """What a stage gets: the project, the user's options, and earlier stages' output."""

    project_dir: Path
    spec: ProjectSpec
    options: dict[str, Any] = field(default_factory=dict)
    reporter: Reporter = field(default_factory=Reporter)
    artifacts: dict[str, Any] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        path = self.project_dir / STATE_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def dataset(self):
        if "dataset" not in self.artifacts:
            from dlrun.data import load_dataset

            self.artifacts["dataset"] = load_dataset(self.spec, self.project_dir)
        return self.artifacts["dataset"]


class Stage:
    """Base class: override ``run``."""

    name = "stage"

    def run(self, context: RunContext) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def get_stage(name: str) -> Stage:
    from dlrun.catalogue import STAGES

    _register_builtin()
    obj = STAGES.get(name)
    return obj() if isinstance(obj, type) else obj


def run_stages(names: list[str], context: RunContext) -> RunContext:
    for name in names:
        context.artifacts[name] = get_stage(name).run(context)
    return context


def _register_builtin() -> None:
    from dlrun.catalogue import STAGES

    if "evaluate" in STAGES._entries:
        return
    from dlrun.stages.evaluate import EvaluateStage
    from dlrun.stages.prepare import PrepareStage
    from dlrun.stages.report import ReportStage

    for cls in (PrepareStage, EvaluateStage, ReportStage):
        STAGES.register(cls.name, cls)
