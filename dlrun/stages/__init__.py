"""Stages of the process: prepare, evaluate, (tune), report.

A stage is a small class with a ``name`` and one ``run(context)`` method; it
reads what earlier stages left in ``context.artifacts`` or on disk under the
project's ``.dlrun/`` folder, and leaves plain data behind. Stages are found
through the ``dlrun.stages`` registry (entry-point group of the same name), so
another package can add one.
"""

from dlrun.stages.base import RunContext, Stage, get_stage, run_stages

__all__ = ["RunContext", "Stage", "get_stage", "run_stages"]
