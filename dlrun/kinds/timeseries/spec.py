"""The ``series:`` block of project.yaml (kind: timeseries): time column and walk-forward protocol."""

from typing import Literal

from pydantic import Field

from dlrun.spec import StrictModel


class TimeSeriesSpec(StrictModel):
    """A time series (kind: timeseries) and its walk-forward protocol; unset values are
    inferred from the data (see dlrun.kinds.timeseries.data)."""

    time_column: str | None = Field(
        None, description="Column with the dates/times (default: the first column when it is "
        "not a series); values that do not parse as dates are read as an ordered index."
    )
    frequency: Literal["auto", "minutely", "hourly", "daily", "weekly", "monthly", "quarterly",
                       "yearly", "none"] = Field(
        "auto", description="Spacing of the observations ('auto': inferred from the time column)."
    )
    period: int | None = Field(
        None, ge=1, le=1000, description="Season length in steps (default from the frequency: "
        "12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly; 1 = no season)."
    )
    window: int | None = Field(
        None, ge=1, le=1000, description="Lag-window width (past steps the models see; default: "
        "one season, at least 3)."
    )
    test_size: int | None = Field(
        None, ge=1, description="N: walk-forward over the last N observations (default: one "
        "season when it is 12 or more steps, else 10% of the series, at most 365)."
    )
    horizon: int = Field(1, ge=1, le=1000, description="Forecast this many steps ahead.")
    origins: int = Field(
        1, ge=1, le=50, description="Walk-forward windows: the last N observations, then the N "
        "before them, ...; each is one fold fitted on everything before it."
    )
    seeds: int = Field(
        3, ge=1, le=30, description="Runs per algorithm, each with its own seed: nets vary run "
        "to run, so a row is the mean over seeds and its spread is shown."
    )


