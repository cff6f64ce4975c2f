"""Holt-Winters forecasts from statsmodels, for HoltWintersTests.

Writes holt_winters.json: for an additive and a multiplicative case, the series, the fixed
smoothing parameters, the initial states (as Sequent's HoltWinters.run starts them: level
and trend from the first two seasons, the season from the first) and statsmodels'
forecasts. statsmodels fits the series after its first season with those states given
(initialization_method="known"), which is the recursion Sequent runs from t = m.

statsmodels 0.15.0 forecasts the steps h = m, 2m, ... with the seasonal factor from before
the last observation's update (statsmodels issue #9538, fixed by pull request #10230); those
steps are written as Hyndman's equations give them, from statsmodels' own final states:
level_T + h trend_T + season_T (additive) or (level_T + h trend_T) season_T.

    python -m venv /tmp/venv && /tmp/venv/bin/pip install statsmodels
    /tmp/venv/bin/python Tests/Fixtures/make_holt_winters_fixtures.py
"""
import json
import math
import os

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

m = 4
t = np.arange(32)
cases = {
    "additive": (20 + 0.8 * t + np.array([3, -2, 5, -6])[t % 4] + 1.5 * np.sin(1.7 * t), "add"),
    "multiplicative": ((30 + 1.1 * t) * np.array([0.8, 1.1, 1.3, 0.8])[t % 4] * (1 + 0.03 * np.cos(2.3 * t)), "mul"),
}
params = {"alpha": 0.35, "beta": 0.12, "gamma": 0.25}
out = {}
for name, (x, kind) in cases.items():
    first, second = x[:m].mean(), x[m:2 * m].mean()
    level, trend = first, (second - first) / m
    season = x[:m] - first if kind == "add" else x[:m] / first
    model = ExponentialSmoothing(
        x[m:], trend="add", seasonal=kind, seasonal_periods=m, initialization_method="known",
        initial_level=level, initial_trend=trend, initial_seasonal=season)
    fit = model.fit(smoothing_level=params["alpha"], smoothing_trend=params["beta"],
                    smoothing_seasonal=params["gamma"], optimized=False)
    forecast = fit.forecast(8)
    level_T, trend_T, season_T = fit.level[-1], fit.trend[-1], fit.season[-1]
    for h in range(m, 9, m):
        base = level_T + h * trend_T
        forecast[h - 1] = base + season_T if kind == "add" else base * season_T
    out[name] = {"series": x.tolist(), "season": m, **params, "forecast": list(map(float, forecast)),
                 "sse": float(np.sum((x[m:] - fit.fittedvalues) ** 2))}
path = os.path.join(os.path.dirname(__file__), "holt_winters.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
