"""Data: reading files into a :class:`Dataset` (the kinds of data decide how).

``Dataset`` is imported on first use (module ``__getattr__``) so that light
submodules such as :mod:`dlrun.data.sniff` do not pull in pandas and numpy.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlrun.data.dataset import Dataset

__all__ = ["Dataset", "load_dataset"]


def __getattr__(name: str) -> Any:
    if name == "Dataset":
        from dlrun.data.dataset import Dataset

        return Dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_dataset(spec, project_dir):
    """Load the data named by ``spec.data`` (paths relative to ``project_dir``) with the
    reader of the spec's kind of data (:meth:`dlrun.kind.Kind.load`)."""
    from dlrun.catalogue import KINDS
    from dlrun.plugins import load_plugins

    load_plugins()
    return KINDS.get(spec.kind).load(spec, project_dir)
