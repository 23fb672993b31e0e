"""Data sources: reading the data a spec points to into a :class:`Dataset`.

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
    """Load the data named by ``spec.data`` (paths relative to ``project_dir``),
    with the loader registered for ``spec.kind`` (tabular: CSV, Parquet, sklearn)."""
    from dlrun.catalogue import DATA_LOADERS

    if spec.kind != "tabular" and spec.kind in DATA_LOADERS:
        return DATA_LOADERS.get(spec.kind)(spec, project_dir)
    if spec.kind != "tabular":
        from dlrun.errors import SpecError

        raise SpecError(f"kind '{spec.kind}' is not supported by this dlrun yet", field="kind")
    from dlrun.data.sources import load_dataset as _load

    return _load(spec, project_dir)
