"""dlrun: a command-line runner for predictive-modelling projects.

Kept import-light on purpose: nothing heavy (TensorFlow, XGBoost, matplotlib,
scikit-learn) may be imported from here, so ``dlrun --help`` stays instant.
"""

__version__ = "0.1.0"
