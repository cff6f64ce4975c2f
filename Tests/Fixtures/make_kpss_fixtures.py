"""KPSS statistics from statsmodels, for DifferencingChoiceTests.

Writes kpss.json: for a few series (white noise, a random walk, a trend with noise, the log
of AirPassengers' first 108 months seasonally differenced), the statistic of
statsmodels.tsa.stattools.kpss(x, regression="c", nlags=l) for several lags l, among them
forecast's and pmdarima's default trunc(3 sqrt(n) / 13).

    python -m venv /tmp/venv && /tmp/venv/bin/pip install statsmodels
    /tmp/venv/bin/python Tests/Fixtures/make_kpss_fixtures.py
"""
import json
import math
import os
import warnings

import numpy as np
from statsmodels.tsa.stattools import kpss

rng = np.random.default_rng(19)
noise = rng.standard_normal(150)
walk = np.cumsum(rng.standard_normal(120))
trend = 0.05 * np.arange(90) + rng.standard_normal(90)
# AirPassengers 1949-01 ... 1957-12 (Box and Jenkins), log, seasonally differenced (lag 12).
air = np.array([
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336], dtype=float)
z = np.log(air)
air_seasonal = z[12:] - z[:-12]

cases = []
for name, x in [("noise", noise), ("walk", walk), ("trend", trend), ("air_log_seasonal", air_seasonal)]:
    default = int(3 * math.sqrt(len(x)) / 13)
    for lags in sorted({0, 1, default, 5}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the p-value table's bounds
            statistic = kpss(x, regression="c", nlags=lags)[0]
        cases.append({"name": name, "lags": lags, "default_lags": default, "x": x.tolist(), "statistic": float(statistic)})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kpss.json")
with open(path, "w") as f:
    json.dump({"generator": "statsmodels " + __import__("statsmodels").__version__, "cases": cases}, f)
print(path, len(cases), "cases")
