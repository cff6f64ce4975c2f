"""The two synthetic monthly series of the README's "Synthetic series" table (144 months from
2000-01), drawn with numpy's default_rng(2026). Stop 19's script, kept here (it had stayed
outside the repository); it reproduces that stop's file byte for byte.

1. the airline model: (1 - B)(1 - B^12) log y_t = (1 - 0.4 B)(1 - 0.6 B^12) e_t, e ~ N(0, 0.03^2)
2. trend and season over AR(1) noise: log y_t = log 100 + 0.01 t + 0.15 sin(2 pi t / 12) + a_t,
   a_t = 0.7 a_{t-1} + N(0, 0.03^2)

Usage: python synthetic_series.py OUT.csv   (columns month, airline, trend_season)
"""
import sys

import numpy as np

rng = np.random.default_rng(2026)
n = 144
e = rng.normal(0, 0.03, n + 13)
w = e[13:] - 0.4 * e[12:-1] - 0.6 * e[1:-12] + 0.24 * e[:-13]
z = np.zeros(n)
z[:13] = np.log(100) + 0.15 * np.sin(2 * np.pi * np.arange(13) / 12) + 0.01 * np.arange(13)
for t in range(13, n):
    z[t] = w[t] + z[t - 1] + z[t - 12] - z[t - 13]
a = np.zeros(n)
for t in range(1, n):
    a[t] = 0.7 * a[t - 1] + rng.normal(0, 0.03)
z2 = np.log(100) + 0.01 * np.arange(n) + 0.15 * np.sin(2 * np.pi * np.arange(n) / 12) + a
with open(sys.argv[1], "w") as f:
    f.write("month,airline,trend_season\n")
    for t in range(n):
        f.write(f"{2000 + t // 12:04d}-{t % 12 + 1:02d},{np.exp(z[t]):.3f},{np.exp(z2[t]):.3f}\n")
