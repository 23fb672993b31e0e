from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrun.progress import Reporter

if TYPE_CHECKING:  # pydantic is heavy: the stages load with the plugins on `dlrun new`'s path
    from dlrun.spec import ProjectSpecBase as ProjectSpec

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
            from dlrun.catalogue import KINDS

            self.artifacts["dataset"] = KINDS.get(self.spec.kind).load(self.spec, self.project_dir)
        return self.artifacts["dataset"]


class Stage:
    """Base class: override ``run``."""

    name = "stage"

    def run(self, context: RunContext) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def get_stage(name: str) -> Stage:
    from dlrun.catalogue import STAGES
    from dlrun.plugins import load_plugins

    load_plugins()
    obj = STAGES.get(name)
    return obj() if isinstance(obj, type) else obj


def run_stages(names: list[str], context: RunContext) -> RunContext:
    for name in names:
        context.artifacts[name] = get_stage(name).run(context)
    return context
