#!/usr/bin/env python3
"""fastmlp's MLPClassifier/MLPRegressor against scikit-learn's, on scikit-learn's real data sets.

Both libraries get the same standardised float64 arrays, the same splits and the same
hyper-parameters (scikit-learn's defaults: one hidden layer of 100 ReLU units, Adam with
learning rate 1e-3, alpha 1e-4, batch_size min(200, n), at most 200 epochs, tol 1e-4 over
10 epochs; for diabetes 10 hidden units, learning rate 0.1 and at most 1000 epochs), with
random_state = the seed, hence the same initial weights. For each data set and seed the two fits are
timed one after the other, the library that goes first alternating, and the report gives
the median test accuracy (R² for diabetes), the median fit time and their ratios.

    python benchmarks/compare_sklearn.py                       # 15 seeds, 1 thread each
    python benchmarks/compare_sklearn.py --seeds 3 --threads 2 --markdown table.md

Neither library's quality is asserted here: docs/estimators.md holds the measured table
and the tests hold the correctness checks.
"""
from __future__ import annotations

import os
import sys

# Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old OpenBLAS bugs; with a
# current NumPy they only select a slower kernel, handicapping scikit-learn. NumPy reads
# them at import, so the script restarts itself without them (see benchmarks/README.md).
_OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and "--keep-openblas-env" not in sys.argv \
        and any(name in os.environ for name in _OPENBLAS_OVERRIDES):
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
              {key: value for key, value in os.environ.items() if key not in _OPENBLAS_OVERRIDES})

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn import datasets as sk_datasets  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastmlp as fm  # noqa: E402

DATASETS = {  # name: (loader, task)
    "digits": (sk_datasets.load_digits, "classification"),
    "breast_cancer": (sk_datasets.load_breast_cancer, "classification"),
    "iris": (sk_datasets.load_iris, "classification"),
    "wine": (sk_datasets.load_wine, "classification"),
    "diabetes": (sk_datasets.load_diabetes, "regression"),
}
# Hyper-parameters given to both libraries on top of scikit-learn's defaults. On diabetes
# the defaults leave both far from a fit after 200 epochs (targets of order 100, R² < 0), so
# there a small network learns faster, until scikit-learn's tol stops it.
PARAMS = {name: {} for name in DATASETS}
PARAMS["diabetes"] = {"hidden_layer_sizes": (10,), "learning_rate_init": 0.1, "max_iter": 1000}
TEST_SIZE = 0.25


def split(name: str, seed: int):
    loader, task = DATASETS[name]
    X, y = loader(return_X_y=True)
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=seed,
                                                        stratify=stratify)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def make(library: str, task: str, seed: int, params: dict):
    if library == "fastmlp":
        cls = fm.MLPClassifier if task == "classification" else fm.MLPRegressor
    else:
        cls = SkMLPClassifier if task == "classification" else SkMLPRegressor
    return cls(random_state=seed, **params)


def timed_fit(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        started = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - started
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, converged


def run(names, seeds, common_params, dtype, log):
    rows = []
    for name in names:
        task = DATASETS[name][1]
        params = {**common_params, **PARAMS[name]}
        X_train, X_test, y_train, y_test = split(name, 0)
        for library in ("fastmlp", "sklearn"):  # warm-up: imports, thread pools, first-call costs
            extra = {"dtype": dtype} if library == "fastmlp" else {}
            timed_fit(make(library, task, 0, {**params, **extra, "max_iter": 5}), X_train, y_train)
        results = {"fastmlp": [], "sklearn": []}
        for index, seed in enumerate(seeds):
            X_train, X_test, y_train, y_test = split(name, seed)
            order = ("fastmlp", "sklearn") if index % 2 == 0 else ("sklearn", "fastmlp")
            for library in order:
                extra = {"dtype": dtype} if library == "fastmlp" else {}
                estimator = make(library, task, seed, {**params, **extra})
                seconds, converged = timed_fit(estimator, X_train, y_train)
                score = estimator.score(X_test, y_test)
                results[library].append((score, seconds, estimator.n_iter_, converged))
                log(f"{name:14s} seed {seed:2d} {library:8s} score {score:.4f}  fit {seconds * 1e3:8.1f} ms  "
                    f"epochs {estimator.n_iter_:3d}{'' if converged else ' (max_iter)'}")
        rows.append((name, task, X_train.shape, results))
    return rows


def median(values):
    return statistics.median(values)


def markdown(rows, seeds, threads, dtype) -> str:
    lines = [
        "| data set | task | train × features | score: scikit-learn | score: fastmlp | Δ score | mean Δ ± s.e. | "
        "fit: scikit-learn | fit: fastmlp | speed-up | epochs: sklearn / fastmlp | ms per epoch: sklearn / fastmlp |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, task, shape, results in rows:
        sk, fa = results["sklearn"], results["fastmlp"]
        sk_score, fa_score = median([r[0] for r in sk]), median([r[0] for r in fa])
        sk_time, fa_time = median([r[1] for r in sk]), median([r[1] for r in fa])
        sk_epoch = median([r[1] / r[2] for r in sk]) * 1e3
        fa_epoch = median([r[1] / r[2] for r in fa]) * 1e3
        metric = "accuracy" if task == "classification" else "R²"
        paired = np.array([f[0] - s[0] for f, s in zip(fa, sk)])
        error = paired.std(ddof=1) / np.sqrt(paired.size) if paired.size > 1 else 0.0
        lines.append(
            f"| {name} | {task} | {shape[0]} × {shape[1]} | {sk_score:.4f} | {fa_score:.4f} | "
            f"{fa_score - sk_score:+.4f} ({metric}) | {paired.mean():+.4f} ± {error:.4f} | "
            f"{sk_time * 1e3:.0f} ms | {fa_time * 1e3:.0f} ms | "
            f"{sk_time / fa_time:.1f}× | "
            f"{median([r[2] for r in sk]):.0f} / {median([r[2] for r in fa]):.0f} | {sk_epoch:.2f} / {fa_epoch:.2f} |")
    lines.append("")
    lines.append(f"Medians over {len(seeds)} seeds ({seeds[0]}–{seeds[-1]}); test set {TEST_SIZE:.0%} "
                 f"(stratified for classes); {threads} thread(s) per library; fastmlp dtype={dtype}. "
                 "Δ score = fastmlp's median − scikit-learn's; mean Δ = mean over seeds of the paired difference, "
                 "with its standard error. Speed-up = scikit-learn's median fit time / fastmlp's.")
    return "\n".join(lines)


def machine_line() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    import sklearn
    engine = fm._core.build_info() if hasattr(fm._core, "build_info") else {}
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
            f"scikit-learn {sklearn.__version__}, fastmlp {fm.__version__} (engine: {engine.get('simd', '?')}); "
            f"load average {'/'.join(f'{x:.1f}' for x in load) if load else '?'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=15, help="number of seeds (splits and initial weights), 15")
    parser.add_argument("--threads", type=int, default=1, help="threads for each library (1)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"), help="fastmlp's dtype")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--keep-openblas-env", action="store_true", help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        parser.error(f"unknown data set(s) {unknown}; choose from {', '.join(DATASETS)}")

    fm.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    seeds = list(range(args.seeds))
    before = machine_line()
    with threadpool_limits(limits=args.threads):
        rows = run(names, seeds, {}, args.dtype, lambda text: print(text, file=sys.stderr, flush=True))
    after = machine_line()
    command = " ".join(sys.argv[1:] if argv is None else argv)
    report = "\n".join([markdown(rows, seeds, args.threads, args.dtype), "",
                        f"Machine at the start: {before}", f"Machine at the end: {after}", "",
                        f"Command: python benchmarks/compare_sklearn.py {command}".rstrip()])
    print(report)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as file:
            file.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
