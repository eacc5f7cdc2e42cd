#!/usr/bin/env python3
"""What a batch-level callback costs: fit with no callback, with an on_train_batch_end that does
nothing, and with both batch hooks, on the same data, model and seed.

The engine trains a whole epoch in one C++ call; a batch hook makes it take the GIL and call
into Python around every batch. Small batches of a small model show the crossing most. Reports
the median seconds per epoch over --repeats runs (alternating the order), the ratio to the run
without hooks and the extra microseconds per batch.

    python benchmarks/bench_batch_hooks.py                   # 20 000 rows, batch 32, 16 units
    python benchmarks/bench_batch_hooks.py --batch-size 256 --units 128
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import fastmlp as fm


class EndOnly(fm.Callback):
    def on_train_batch_end(self, batch, logs=None):
        pass


class BothHooks(EndOnly):
    def on_train_batch_begin(self, batch, logs=None):
        pass


def seconds_per_epoch(X, y, args, callbacks) -> float:
    model = fm.Sequential([fm.Dense(args.units, activation="relu"), fm.Dense(3, activation="softmax")], seed=0)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.05))
    model.build(X.shape[1])
    start = time.perf_counter()
    model.fit(X, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0, callbacks=callbacks)
    return (time.perf_counter() - start) / args.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    cases = {"no batch hook": [], "on_train_batch_end": [EndOnly()], "both batch hooks": [BothHooks()]}
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for repeat in range(args.repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            times[name].append(seconds_per_epoch(X, y, args, cases[name]))
    batches = -(-args.rows // args.batch_size)
    base = statistics.median(times["no batch hook"])
    print(f"{platform.processor() or platform.machine()}, engine variant {fm._core.variant}, "
          f"{fm.get_num_threads()} threads; {args.rows} rows, batch {args.batch_size} ({batches} batches), "
          f"{args.features}-{args.units}-3 network, median of {args.repeats}")
    for name in names:
        median = statistics.median(times[name])
        extra = (median - base) / batches * 1e6
        print(f"  {name:<20} {median * 1e3:8.2f} ms/epoch   ×{median / base:5.3f}   {extra:+6.2f} µs/batch")


if __name__ == "__main__":
    main()
