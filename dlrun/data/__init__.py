"""Data sources: reading the data a spec points to into a :class:`Dataset`."""

from dlrun.data.dataset import Dataset

__all__ = ["Dataset", "load_dataset"]


def load_dataset(spec, project_dir):
    """Load the data named by ``spec.data`` (paths relative to ``project_dir``)."""
    from dlrun.data.sources import load_dataset as _load

    return _load(spec, project_dir)
