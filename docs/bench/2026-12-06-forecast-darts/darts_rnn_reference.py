"""Darts' own AirPassengers RNNModel recipe (examples/04-RNN-examples.ipynb), run as written,
for reference numbers only (no part of Sequent's build or tests depends on Python).

The notebook's recipe: split_after(1959-01-01) (121 training months), a MinMax Scaler fitted on
the training part, no log; future covariates = the year (min-max scaled over 1000 months from
1949-01) stacked with the month one-hot; RNNModel(LSTM, hidden_dim=20, dropout=0,
batch_size=16, n_epochs=300, lr 1e-3, training_length=20, input_chunk_length=14); the model at
the end of training (not the best checkpoint) backtested by historical_forecasts(start=1959-01,
forecast_horizon=6, retrain=False). Darts' printed MAPE uses last_points_only=True: the 6th
step of each forecast only (1959-06 ... 1960-12). We also report the MAPE over all 6 steps of
all 19 origins (1959-01 ... 1960-07), which is what Sequent's backtest table calls MAPE.

Usage: python darts_rnn_reference.py AIRPASSENGERS_CSV [SEED ...]   (default seeds 42 1 2 3 4)
"""
import json
import sys
import time

import numpy as np
import pandas as pd

from darts import TimeSeries
from darts.dataprocessing.transformers import Scaler
from darts.metrics import mape
from darts.models import RNNModel
from darts.utils.timeseries_generation import datetime_attribute_timeseries


def main():
    path = sys.argv[1]
    seeds = [int(s) for s in sys.argv[2:]] or [42, 1, 2, 3, 4]
    frame = pd.read_csv(path)
    frame["month"] = pd.to_datetime(frame["month"])
    series = TimeSeries.from_dataframe(frame, "month", "passengers", freq="MS").astype(np.float32)

    train, val = series.split_after(pd.Timestamp("19590101"))
    transformer = Scaler()
    train_transformed = transformer.fit_transform(train)
    val_transformed = transformer.transform(val)
    series_transformed = transformer.transform(series)

    year_series = datetime_attribute_timeseries(
        pd.date_range(start=series.start_time(), freq=series.freq_str, periods=1000),
        attribute="year", one_hot=False, dtype=series.dtype)
    year_series = Scaler().fit_transform(year_series)
    month_series = datetime_attribute_timeseries(year_series, attribute="month", one_hot=True, dtype=series.dtype)
    covariates = year_series.stack(month_series)

    actual = series.values()[:, 0]
    times = list(series.time_index)
    results = []
    for seed in seeds:
        started = time.process_time()
        model = RNNModel(
            input_chunk_length=14, training_length=20, model="LSTM", hidden_dim=20, dropout=0,
            batch_size=16, n_epochs=300, optimizer_kwargs={"lr": 1e-3}, model_name=f"Air_RNN_{seed}",
            random_state=seed, force_reset=True, save_checkpoints=False,
            pl_trainer_kwargs={"enable_progress_bar": False, "accelerator": "cpu"})
        model.fit(train_transformed, future_covariates=covariates, val_series=val_transformed,
                  val_future_covariates=covariates, verbose=False)
        # Darts' own figure: the last point of each 6-month forecast.
        last = model.historical_forecasts(series_transformed, future_covariates=covariates,
                                          start=pd.Timestamp("19590101"), forecast_horizon=6, retrain=False,
                                          verbose=False)
        darts_mape = mape(transformer.inverse_transform(series_transformed), transformer.inverse_transform(last))
        # Every step of every origin.
        every = model.historical_forecasts(series_transformed, future_covariates=covariates,
                                           start=pd.Timestamp("19590101"), forecast_horizon=6, retrain=False,
                                           last_points_only=False, verbose=False)
        errors, last_errors = [], []
        for forecast in every:
            values = transformer.inverse_transform(forecast).values()[:, 0]
            for h, (t, v) in enumerate(zip(forecast.time_index, values)):
                a = actual[times.index(t)]
                errors.append(abs(a - v) / abs(a))
                if h == len(values) - 1:
                    last_errors.append(abs(a - v) / abs(a))
        row = {
            "seed": seed,
            "origins": len(every),
            "first_origin": str(every[0].start_time().date()),
            "last_origin": str(every[-1].start_time().date()),
            "darts_mape_last_points": round(float(darts_mape), 3),
            "mape_last_step": round(100 * float(np.mean(last_errors)), 3),
            "mape_all_steps": round(100 * float(np.mean(errors)), 3),
            "cpu_seconds": round(time.process_time() - started, 1),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
    for key in ("darts_mape_last_points", "mape_all_steps"):
        values = [r[key] for r in results]
        print(json.dumps({"summary": key, "mean": round(float(np.mean(values)), 3), "sd": round(float(np.std(values, ddof=1)), 3) if len(values) > 1 else None,
                          "min": min(values), "max": max(values)}))


if __name__ == "__main__":
    main()
