"""fastmlp's predict against onnxruntime running fastmlp's own ONNX export, same network, same run.

    python benchmarks/bench_onnx.py                      # 1 thread and all cores
    python benchmarks/bench_onnx.py --threads 1 --repeats 9 --markdown onnx.md

The W3 network (784-256-128-10, ReLU, softmax, float32, the benchmark's initial weights)
is exported with fastmlp.onnx.export and loaded into an onnxruntime InferenceSession
(CPU provider, all graph optimisations, sequential execution, intra-op threads = the
thread count, inter-op threads 1, its default spin-waiting unless --no-spinning).
Per call, one row (latency) and 10,000 rows: fastmlp's ``model.predict(X)`` (what a user
calls, input checks included), the engine's ``model.engine.predict(X)`` and onnxruntime's
``session.run(None, {"X": X})``, all NumPy in and out. Peers are timed round-robin, the
first one rotating, calls per round filling --seconds, each call timed on its own; the
table gives the median call.
Needs the onnx extra: pip install -e ".[onnx]". Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_workloads import INFERENCE_WORKLOAD, WORKLOADS, make_data  # noqa: E402

BATCH_ROWS = 10_000
SETTLE_SECONDS = 0.05  # lets the previous peer's spinning threads fall asleep


def cpu_line() -> str:
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return f"{model}, {os.cpu_count()} logical CPUs, {isa}"


def w3_model():
    import fastmlp as fm

    sizes = WORKLOADS[INFERENCE_WORKLOAD].sizes
    layers = [fm.Dense(units, activation="relu") for units in sizes[1:-1]]
    layers.append(fm.Dense(sizes[-1], activation="softmax"))
    model = fm.Sequential(layers, input_dim=sizes[0], dtype="float32", seed=0)
    for layer in model.layers:  # He-normal weights, zero biases, as bench.py starts from
        rng = np.random.default_rng(layer.units)
        layer.W = rng.standard_normal(layer.W.shape) * np.sqrt(2.0 / layer.W.shape[0])
    return model


def ort_session(proto, threads: int, spinning: bool):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def measure(calls: dict, seconds: float, repeats: int) -> dict:
    """Median seconds per call of each callable: every call timed on its own (so that a
    preempted call on a shared machine moves the median little), rounds round-robin."""
    numbers = {}
    for key, call in calls.items():
        call()
        number, elapsed = timeit.Timer(call).autorange()
        numbers[key] = max(3, int(number * seconds / elapsed))
    times = {key: [] for key in calls}
    keys = list(calls)
    clock = time.perf_counter
    for repeat in range(repeats):
        shift = repeat % len(keys)
        for key in keys[shift:] + keys[:shift]:
            time.sleep(SETTLE_SECONDS)
            call = calls[key]
            for _ in range(numbers[key]):
                started = clock()
                call()
                times[key].append(clock() - started)
    return {key: float(np.median(values)) for key, values in times.items()}


def run(threads: int, args) -> list:
    import fastmlp as fm
    import fastmlp.onnx as fmx

    fm.set_num_threads(threads)
    model = w3_model()
    session = ort_session(fmx.export(model), threads, not args.no_spinning)
    X, _ = make_data(WORKLOADS[INFERENCE_WORKLOAD], BATCH_ROWS)
    rows = []
    for label, data in (("1 row", np.ascontiguousarray(X[:1])), (f"{BATCH_ROWS:,} rows", X)):
        expected = model.predict(data)
        (result,) = session.run(None, {"X": data})
        error = float(np.max(np.abs(result - expected)))
        if error > 1e-5:
            raise SystemExit(f"onnxruntime and fastmlp disagree by {error:.3g} on {label}")
        calls = {"fastmlp predict": lambda d=data: model.predict(d),
                 "fastmlp engine": lambda d=data: model.engine.predict(d),
                 "onnxruntime": lambda d=data: session.run(None, {"X": d})}
        medians = measure(calls, args.seconds, args.repeats)
        for peer, seconds in medians.items():
            rows.append({"threads": threads, "rows": label, "peer": peer, "microseconds": seconds * 1e6,
                         "onnxruntime_over_peer": medians["onnxruntime"] / seconds})
            print(f"  {threads} thread(s), {label}, {peer}: {seconds * 1e6:,.1f} µs", file=sys.stderr)
    return rows


def report(rows: list, args) -> str:
    import onnxruntime as ort

    import fastmlp

    load = os.getloadavg()
    lines = ["# fastmlp predict vs onnxruntime (W3, float32)", "",
             f"- CPU: {cpu_line()}; load average {load[0]:.2f} at the end",
             f"- fastmlp {fastmlp.__version__}, engine variant `{fastmlp._core.variant}`",
             f"- onnxruntime {ort.__version__}, CPU provider, intra-op threads = threads, inter-op 1, "
             f"spinning {'off' if args.no_spinning else 'on (default)'}",
             f"- median call over {args.repeats} round-robin rounds of ~{args.seconds} s per peer", "",
             "| threads | rows per call | peer | µs per call | onnxruntime ÷ peer |",
             "|---:|---|---|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['threads']} | {row['rows']} | {row['peer']} | {row['microseconds']:,.1f} | "
                     f"{row['onnxruntime_over_peer']:.2f} |")
    lines += ["", "onnxruntime ÷ peer > 1: the peer is faster than onnxruntime by that factor."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=None,
                        help="thread counts to compare at (default: 1 and all cores)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement")
    parser.add_argument("--no-spinning", action="store_true", help="onnxruntime's worker threads do not spin")
    parser.add_argument("--markdown", help="also write the report here")
    args = parser.parse_args(argv)
    counts = args.threads or sorted({1, os.cpu_count() or 1})
    rows = [row for threads in counts for row in run(threads, args)]
    text = report(rows, args)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
