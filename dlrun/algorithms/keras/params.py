"""The parameters of dlrun's nets: one declaration of the training parameters every
net shares, and the helper that writes each net's ``__init__`` from it.

scikit-learn reads an estimator's parameters from the explicit keyword
parameters of its ``__init__`` (``get_params``, ``set_params``, ``clone``; no
``**kwargs``), and dlrun reads the defaults it shows and tunes from the same
signature (:func:`dlrun.catalogue.signature_defaults`). So a net declares

* ``architecture``: its own parameters and their defaults (a dict, in order), and
* ``training``: a :class:`TrainingParams` -- the shared training parameters, with
  the defaults that differ for this net given as overrides,

and :func:`install_init` (called for every subclass of
:class:`~dlrun.algorithms.keras.estimator.KerasEstimator`) writes an ``__init__``
with one keyword-only parameter per name -- the architecture's first, then the
training ones -- that stores each value unchanged, as scikit-learn expects. A
class that writes its own ``__init__`` keeps it.
"""

from __future__ import annotations

import keyword
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingParams:
    """How a net is trained, whatever its layers: the one list of the shared training
    parameters and their usual defaults (a net overrides the ones it trains differently)."""

    n_classes: int = 0  # output width for classification (at least 2), so every fold has the same columns
    learning_rate: float = 3e-3  # Adam's step size
    epochs: int = 300  # at most this many passes over the training rows
    batch_size: int = 64
    patience: int = 20  # epochs without a better validation loss before training stops
    validation_fraction: float = 0.15  # share of the training rows held out for early stopping
    l2: float = 1e-4  # weight penalty on the kernels
    seed: int = 1  # initial weights, shuffling, dropout, the validation split

    def defaults(self) -> dict[str, Any]:
        return asdict(self)


TRAINING_NAMES = tuple(TrainingParams.__dataclass_fields__)


def init_defaults(cls) -> dict[str, Any]:
    """The parameters of net class ``cls`` and their defaults: architecture, then training."""
    architecture = dict(getattr(cls, "architecture", {}))
    training = getattr(cls, "training", TrainingParams()).defaults()
    clash = sorted(set(architecture) & set(training))
    if clash:
        raise TypeError(f"{cls.__name__}: {clash} are training parameters; override them "
                        f"in `training = TrainingParams(...)`, not in `architecture`")
    for name in architecture:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise TypeError(f"{cls.__name__}: {name!r} cannot be a parameter name")
    return {**architecture, **training}


def install_init(cls) -> None:
    """Give ``cls`` an ``__init__(self, *, <each parameter>=<its default>)`` that stores the
    values as attributes of the same names (unless ``cls`` writes its own ``__init__``)."""
    if "__init__" in cls.__dict__:
        return
    defaults = init_defaults(cls)
    # generated source (as dataclasses does) so the signature is a real one: inspect,
    # scikit-learn and Python's own argument checks see explicit keyword parameters
    args = "self, *" + "".join(f", {name}=_defaults[{name!r}]" for name in defaults) if defaults else "self"
    body = "".join(f"\n    self.{name} = {name}" for name in defaults) or "\n    pass"
    namespace: dict[str, Any] = {}
    exec(f"def __init__({args}):{body}\n", {"_defaults": defaults}, namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__module__ = cls.__module__
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = (f"Parameters: {', '.join(getattr(cls, 'architecture', {})) or 'none'} "
                    f"(architecture) and {', '.join(TRAINING_NAMES)} (training, see TrainingParams).")
    cls.__init__ = init
