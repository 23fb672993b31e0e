"""The views of a table. Each is a scikit-learn ColumnTransformer placed inside the
evaluated Pipeline, so imputation, encoding and scaling are fitted on the
training fold only: leakage from test folds is impossible by construction.

Every view imputes (median for numbers, most frequent for categories) and
one-hot encodes categoricals; they differ in how numeric columns are scaled.
Their ``traits`` say whether they rescale the numbers and whether the
transform keeps each column's order (what trees are invariant to).
"""

from __future__ import annotations

from dlrun.catalogue import TABLE, ViewInfo

KIND = "tabular"


def _column_transformer(roles, scaler):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    numeric, categorical = roles.get("numeric") or [], roles.get("categorical") or []
    numeric_steps = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
    if scaler is not None:
        numeric_steps.append(("scale", scaler))
    parts = []
    if numeric:
        parts.append(("numeric", Pipeline(numeric_steps), list(numeric)))
    if categorical:
        categorical_steps = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        parts.append(("categorical", categorical_steps, list(categorical)))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _raw(roles):
    return _column_transformer(roles, None)


def _standardize(roles):
    from sklearn.preprocessing import StandardScaler

    return _column_transformer(roles, StandardScaler())


def _normalize(roles):
    from sklearn.preprocessing import MinMaxScaler

    return _column_transformer(roles, MinMaxScaler())


def _power(roles):
    from sklearn.preprocessing import PowerTransformer

    return _column_transformer(roles, PowerTransformer(method="yeo-johnson"))


# every view: a monotone transform of each numeric column (one-hot columns are the same);
# raw, standardize and normalize a positive affine one
RAW = ViewInfo("raw", _raw, KIND, (TABLE,), {"rescales": False, "monotone": True, "affine": True},
               "imputation and one-hot encoding only", rank=0)
STANDARDIZE = ViewInfo("standardize", _standardize, KIND, (TABLE,),
                       {"rescales": True, "monotone": True, "affine": True}, "zero mean, unit variance", rank=1)
NORMALIZE = ViewInfo("normalize", _normalize, KIND, (TABLE,), {"rescales": True, "monotone": True, "affine": True},
                     "min-max scaling to [0, 1]", rank=2)
POWER = ViewInfo("power", _power, KIND, (TABLE,), {"rescales": True, "monotone": True,
                                                              "affine": False},
                 "Yeo-Johnson power transform, then standardized", rank=3)
