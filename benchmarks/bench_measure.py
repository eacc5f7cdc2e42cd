"""Timed measurements in this process: training, quality guard, inference."""
from __future__ import annotations

import contextlib
import gc
import statistics
import time
import timeit

import numpy as np

from bench_peers import PEER_CLASSES, PEER_LABELS, inference_callable, initial_parameters
from bench_workloads import (INFERENCE_BATCH_ROWS, INFERENCE_WORKLOAD, SEED, WORKLOADS, Workload,
                             forward_float64, make_data, quality_of)

# Pause before each measurement so that the worker threads of the previous peer's runtime
# (OpenMP and OpenBLAS spin for a while after a parallel region) stop competing for the
# two cores.
SETTLE_SECONDS = 0.05


def summary(values: list) -> dict:
    """Median, quartiles and the raw values."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "q1": q1, "q3": q3, "values": list(values)}


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def bench_training(workload: Workload, peers: list, args, log) -> dict:
    """Warm-up, calibration, then round-robin repeats. Returns per-peer summaries."""
    rows = max(workload.batch * 4, int(workload.rows * args.rows_scale))
    X, y = make_data(workload, rows)
    parameters = initial_parameters(workload)
    log(f"{workload.name} {workload.describe()}: {rows} rows, {workload.train_flops_per_sample:,} FLOP/sample")
    instances = {name: PEER_CLASSES[name](workload, X, y, parameters, SEED) for name in peers}
    epochs = {}
    for name, peer in instances.items():
        peer.train(1)  # warm-up: first-call costs, caches, thread pools
        seconds = timed(peer.train, 1)
        epochs[name] = args.epochs or max(1, round(args.seconds / seconds))
        log(f"  warm-up {name}: {rows / seconds:,.0f} samples/s -> {epochs[name]} epoch(s) per measurement")
    rates = {name: [] for name in instances}
    names = list(instances)
    for repeat in range(args.repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:  # round-robin: each peer goes first in turn
            time.sleep(SETTLE_SECONDS)
            seconds = timed(instances[name].train, epochs[name])
            rates[name].append(epochs[name] * rows / seconds)
        log(f"  repeat {repeat + 1}/{args.repeats}: " +
            ", ".join(f"{name} {rates[name][-1]:,.0f}/s" for name in names))
    results = {}
    for name in names:
        stats = summary(rates[name])
        results[name] = {"samples_per_s": stats, "gflops": stats["median"] * workload.train_flops_per_sample / 1e9,
                         "epochs_per_measurement": epochs[name],
                         "seconds_per_measurement": epochs[name] * rows / stats["median"]}
    del instances
    gc.collect()
    return {"workload": workload.name, "network": workload.describe(), "rows": rows,
            "flops_per_sample": workload.train_flops_per_sample, "peers": results}


def bench_quality(workload: Workload, peers: list, args, log) -> dict:
    """Train each peer for the same epochs from the same weights, then evaluate all final
    weights with one float64 evaluator on the training data. fastmlp and PyTorch run with
    two shuffle seeds each; their spread is the noise the comparison allows for."""
    rows = max(workload.batch * 4, int(workload.rows * args.rows_scale))
    X, y = make_data(workload, rows)
    parameters = initial_parameters(workload)
    initial = quality_of(forward_float64(parameters, X, workload.classification), y, workload.classification)
    runs = {}
    for name in [p for p in peers if p != "engine"]:
        seeds = (SEED + 1, SEED + 2) if name in ("fastmlp", "torch") else (SEED + 1,)
        runs[name] = []
        for seed in seeds:
            peer = PEER_CLASSES[name](workload, X, y, parameters, seed)
            peer.train(args.guard_epochs)
            runs[name].append(quality_of(peer.output(X), y, workload.classification))
            del peer
    metrics = ["loss", "accuracy"] if workload.classification else ["loss"]
    report = {"workload": workload.name, "epochs": args.guard_epochs, "rows": rows, "initial": initial,
              "peers": {}, "flags": []}
    for name, results in runs.items():
        report["peers"][name] = {m: statistics.fmean(r[m] for r in results) for m in metrics}
        report["peers"][name]["seed_spread"] = {m: max(r[m] for r in results) - min(r[m] for r in results)
                                                for m in metrics}
    if "torch" in runs:
        reference = report["peers"]["torch"]
        noise = {m: max(report["peers"][p]["seed_spread"][m] for p in ("fastmlp", "torch") if p in runs)
                 for m in metrics}
        # Allowed difference: 3× the seed-to-seed spread, at least 0.5% of the loss / 1 point
        # of accuracy (two seeds can agree by chance).
        tolerance = {"loss": max(3 * noise["loss"], 0.005 * abs(reference["loss"])),
                     "accuracy": max(3 * noise.get("accuracy", 0.0), 0.01)}
        report["tolerance"] = {m: tolerance[m] for m in metrics}
        for name in runs:
            if name == "torch":
                continue
            # scikit-learn with two classes has another output parametrisation: shown, not judged.
            judged = not (name == "sklearn" and workload.classification and workload.sizes[-1] == 2)
            entry = report["peers"][name]
            entry["diff_vs_torch"] = {m: entry[m] - reference[m] for m in metrics}
            entry["agrees"] = all(abs(entry["diff_vs_torch"][m]) <= tolerance[m] for m in metrics)
            entry["judged"] = judged
            if judged and not entry["agrees"]:
                report["flags"].append(f"{workload.name}: {PEER_LABELS[name]} differs from PyTorch beyond noise: " +
                                       ", ".join(f"{m} {entry[m]:.4f} vs {reference[m]:.4f}" for m in metrics))
    for flag in report["flags"]:
        log("  QUALITY FLAG " + flag)
    log(f"  quality {workload.name} after {args.guard_epochs} epoch(s): " +
        ", ".join(f"{name} loss {entry['loss']:.4f}" for name, entry in report["peers"].items()) +
        f" (initial {initial['loss']:.4f})")
    return report


def bench_inference(peers: list, args, log) -> dict:
    """W3 predict of one row (latency) and of 10,000 rows at once, round-robin."""
    workload = WORKLOADS[INFERENCE_WORKLOAD]
    X, y = make_data(workload, INFERENCE_BATCH_ROWS)
    parameters = initial_parameters(workload)
    one_row = np.ascontiguousarray(X[:1])
    calls = {}
    for name in peers:
        for rows, data in (("1 row", one_row), (f"{INFERENCE_BATCH_ROWS:,} rows", X)):
            calls[(name, rows)] = (inference_callable(name, workload, parameters, X, y, data), data.shape[0])
    with contextlib.ExitStack() as context:
        if "torch" in peers:
            import torch
            context.enter_context(torch.inference_mode())  # once, outside the timed calls
        numbers = {}
        for key, (call, _) in calls.items():
            call()  # warm-up
            number, seconds = timeit.Timer(call).autorange()
            numbers[key] = max(1, int(number * args.inference_seconds / seconds))
        per_call = {key: [] for key in calls}
        keys = list(calls)
        for repeat in range(max(args.repeats, 3)):
            shift = repeat % len(keys)
            for key in keys[shift:] + keys[:shift]:
                time.sleep(SETTLE_SECONDS)
                per_call[key].append(timeit.Timer(calls[key][0]).timeit(numbers[key]) / numbers[key])
    results = {}
    for (name, rows), times in per_call.items():
        stats = summary([t * 1e6 for t in times])
        n_rows = calls[(name, rows)][1]
        results.setdefault(rows, {})[name] = {
            "microseconds_per_call": stats, "rows_per_s": n_rows / (stats["median"] * 1e-6),
            "gflops": n_rows * workload.predict_flops_per_row / (stats["median"] * 1e-6) / 1e9,
            "calls_per_measurement": numbers[(name, rows)]}
        log(f"  predict {rows} {name}: {stats['median']:.2f} µs per call")
    return {"workload": workload.name, "network": "-".join(map(str, workload.sizes)),
            "flops_per_row": workload.predict_flops_per_row, "results": results}
