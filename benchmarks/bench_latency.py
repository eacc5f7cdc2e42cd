"""One-row latency from Python: fastmlp's Sequential and estimators against PyTorch,
onnxruntime and scikit-learn, on the W3 network (784-256-128-10, ReLU, softmax, float32).

    python benchmarks/bench_latency.py                          # 1 thread and all cores
    python benchmarks/bench_latency.py --threads 2 --repeats 9 --markdown latency.md

Every peer gets the same weights (the benchmark's He-normal start) and the same float32 row:

- engine: ``model.engine.predict(X)``, the compiled call alone;
- Sequential: ``model.predict(X)``, what a user calls (its fast path for ready arrays);
- MLPClassifier: fastmlp's estimator, ``predict_proba(X)`` and ``predict(X)``, with every
  input check scikit-learn makes (fitted, feature count, dtype, finite values, feature names);
- PyTorch: a tensor in, a tensor out, ``torch.inference_mode()`` entered once (its best case);
- onnxruntime: fastmlp's own export in an InferenceSession (see bench_onnx.py), NumPy in and out;
- scikit-learn: its MLPClassifier with the same weights, ``predict_proba(X)``.

Peers are timed round-robin (bench_onnx.measure), each call on its own; the table gives the
median call and the ratios that issue 13 sets targets for. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_onnx import cpu_line, measure, ort_session, w3_model  # noqa: E402
from bench_workloads import INFERENCE_WORKLOAD, WORKLOADS, make_data  # noqa: E402

TRAINING_ROWS = 200  # the estimators are fitted once on these, then given the W3 weights


def _classes_and_rows():
    X, y = make_data(WORKLOADS[INFERENCE_WORKLOAD], TRAINING_ROWS)
    y = np.arange(TRAINING_ROWS) % WORKLOADS[INFERENCE_WORKLOAD].sizes[-1]  # every class present
    return X, y


def fastmlp_estimator(model):
    """fm.MLPClassifier holding the Sequential's weights (fitted for one epoch, then assigned)."""
    import fastmlp as fm

    X, y = _classes_and_rows()
    hidden = tuple(layer.units for layer in model.layers[:-1])
    estimator = fm.MLPClassifier(hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    estimator.coefs_ = [layer.W for layer in model.layers]
    estimator.intercepts_ = [layer.b for layer in model.layers]
    return estimator


def sklearn_estimator(model):
    from sklearn.neural_network import MLPClassifier

    X, y = _classes_and_rows()
    hidden = tuple(layer.units for layer in model.layers[:-1])
    estimator = MLPClassifier(hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    estimator.coefs_ = [layer.W.astype(np.float32) for layer in model.layers]
    estimator.intercepts_ = [layer.b.astype(np.float32) for layer in model.layers]
    return estimator


def torch_model(model, threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    modules = []
    for index, layer in enumerate(model.layers):
        linear = nn.Linear(*layer.W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T, dtype=np.float32)))
            linear.bias.copy_(torch.from_numpy(layer.b.astype(np.float32)))
        modules += [linear, nn.ReLU()] if index < len(model.layers) - 1 else [linear, nn.Softmax(dim=1)]
    return nn.Sequential(*modules)


def peers(threads: int, row: np.ndarray, log) -> dict:
    """name -> a no-argument call predicting `row`, each checked against the Sequential."""
    import fastmlp as fm

    fm.set_num_threads(threads)
    model = w3_model()
    expected = model.predict(row)
    calls = {"engine": lambda: model.engine.predict(row), "Sequential.predict": lambda: model.predict(row)}
    estimator = fastmlp_estimator(model)
    np.testing.assert_allclose(estimator.predict_proba(row), expected, rtol=1e-5, atol=1e-7)
    calls["MLPClassifier.predict_proba"] = lambda: estimator.predict_proba(row)
    calls["MLPClassifier.predict"] = lambda: estimator.predict(row)
    if importlib.util.find_spec("torch"):
        import torch

        network = torch_model(model, threads)
        tensor = torch.from_numpy(row)
        with torch.inference_mode():
            np.testing.assert_allclose(network(tensor).numpy(), expected, rtol=1e-4, atol=1e-6)
        calls["PyTorch"] = lambda: network(tensor)
    else:
        log("PyTorch skipped: not installed (pip install torch==2.13.0, the CPU build)")
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        import fastmlp.onnx as fmx

        session = ort_session(fmx.export(model), threads, spinning=True)
        np.testing.assert_allclose(session.run(None, {"X": row})[0], expected, rtol=1e-5, atol=1e-7)
        calls["onnxruntime"] = lambda: session.run(None, {"X": row})
    else:
        log("onnxruntime skipped: the onnx extra is not installed")
    if importlib.util.find_spec("sklearn"):
        reference = sklearn_estimator(model)
        np.testing.assert_allclose(reference.predict_proba(row), expected, rtol=1e-4, atol=1e-6)
        calls["scikit-learn MLPClassifier.predict_proba"] = lambda: reference.predict_proba(row)
    return calls


RATIOS = (  # (label, numerator, denominator, target)
    ("MLPClassifier.predict_proba ÷ Sequential.predict", "MLPClassifier.predict_proba", "Sequential.predict",
     "≤ 3"),
    ("MLPClassifier.predict ÷ Sequential.predict", "MLPClassifier.predict", "Sequential.predict", "≤ 3"),
    ("Sequential.predict ÷ PyTorch", "Sequential.predict", "PyTorch", "≤ 0.1"),
    ("Sequential.predict ÷ onnxruntime", "Sequential.predict", "onnxruntime", "≤ 1"),
    ("MLPClassifier.predict_proba ÷ scikit-learn's", "MLPClassifier.predict_proba",
     "scikit-learn MLPClassifier.predict_proba", "< 1"),
    ("Sequential.predict ÷ engine", "Sequential.predict", "engine", "(Python's share)"),
)


def report(results: dict, args) -> str:
    import fastmlp

    load = os.getloadavg()
    lines = ["# One-row latency from Python (W3 784-256-128-10, float32)", "",
             f"- CPU: {cpu_line()}; load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end",
             f"- fastmlp {fastmlp.__version__}, engine variant `{fastmlp._core.variant}`",
             f"- median call over {args.repeats} round-robin rounds of ~{args.seconds} s per peer", "",
             "| threads | peer | µs per call |", "|---:|---|---:|"]
    for threads, medians in results.items():
        lines += [f"| {threads} | {peer} | {seconds * 1e6:,.2f} |" for peer, seconds in medians.items()]
    lines += ["", "| threads | ratio | measured | target |", "|---:|---|---:|---|"]
    for threads, medians in results.items():
        for label, top, bottom, target in RATIOS:
            if top in medians and bottom in medians:
                lines.append(f"| {threads} | {label} | {medians[top] / medians[bottom]:.3f} | {target} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=None,
                        help="thread counts to compare at (default: 1 and all cores)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement")
    parser.add_argument("--markdown", help="also write the report here")
    args = parser.parse_args(argv)
    X, _ = make_data(WORKLOADS[INFERENCE_WORKLOAD], 1)
    row = np.ascontiguousarray(X[:1])

    def log(message):
        print(message, file=sys.stderr)

    results = {}
    for threads in args.threads or sorted({1, os.cpu_count() or 1}):
        calls = peers(threads, row, log)
        with contextlib.ExitStack() as stack:
            if "PyTorch" in calls:
                import torch
                stack.enter_context(torch.inference_mode())
            results[threads] = measure(calls, args.seconds, args.repeats)
        for peer, seconds in results[threads].items():
            log(f"  {threads} thread(s), {peer}: {seconds * 1e6:,.2f} µs")
    text = report(results, args)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
