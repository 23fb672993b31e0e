"""How a series is framed for the window learners (:class:`.framing.SeriesFraming`).

Each view hands a learner time-ordered *sequences* of lag windows, standardised
on the training part only and inverted before scoring (errors are in the
series' units); ``lags`` frames the series as it is and also hands the raw
*history* to the naive forecasters, which read nothing else.
"""

from __future__ import annotations

from dlrun.catalogue import HISTORY, SEQUENCE, ViewInfo

KIND = "timeseries"


def _framing(difference: bool, seasonal: bool):
    def build(roles=None):
        from dlrun.kinds.timeseries.framing import SeriesFraming

        return SeriesFraming(difference=difference, seasonal=seasonal)

    return build


LAGS = ViewInfo("lags", _framing(False, False), KIND, (SEQUENCE, HISTORY), {"time_ordered": True},
                "lag windows of the series as it is, standardised on the training part", rank=0)
DIFF = ViewInfo("diff", _framing(True, False), KIND, (SEQUENCE,), {"time_ordered": True},
                "lag windows of the first differences (removes a trend), standardised", rank=1)
SEASONAL_DIFF = ViewInfo("seasonal_diff", _framing(False, True), KIND, (SEQUENCE,),
                         {"time_ordered": True},
                         "lag windows of the seasonal differences (removes the season), standardised", rank=2)
