"""Tabular views. Each is a scikit-learn ColumnTransformer placed inside the
evaluated Pipeline, so imputation, encoding and scaling are fitted on the
training fold only: leakage from test folds is impossible by construction.

Every view imputes (median for numbers, most frequent for categories) and
one-hot encodes categoricals; they differ in how numeric columns are scaled.
"""

from __future__ import annotations

from dlrun.catalogue import view


def _column_transformer(numeric, categorical, scaler):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

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


@view("raw", description="imputation and one-hot encoding only")
def raw(numeric, categorical, params=None):
    return _column_transformer(numeric, categorical, None)


@view("standardize", description="zero mean, unit variance")
def standardize(numeric, categorical, params=None):
    from sklearn.preprocessing import StandardScaler

    return _column_transformer(numeric, categorical, StandardScaler())


@view("normalize", description="min-max scaling to [0, 1]")
def normalize(numeric, categorical, params=None):
    from sklearn.preprocessing import MinMaxScaler

    return _column_transformer(numeric, categorical, MinMaxScaler())


@view("power", description="Yeo-Johnson power transform, then standardized")
def power(numeric, categorical, params=None):
    from sklearn.preprocessing import PowerTransformer

    return _column_transformer(numeric, categorical, PowerTransformer(method="yeo-johnson"))
