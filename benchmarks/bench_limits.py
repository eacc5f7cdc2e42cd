"""Measurements in fresh subprocesses: NumPy's GEMM limit and the peak memory of fit.

The parent runs `bench.py --gemm-worker` / `--memory-worker`; the worker prints one JSON
line on stdout.
"""
from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import timeit

import numpy as np

from bench_env import environment_without_overrides, machine_overrides
from bench_measure import summary
from bench_peers import PEER_CLASSES, initial_parameters
from bench_workloads import GEMM_WORKLOADS, INFERENCE_WORKLOAD, MIB, SEED, WORKLOADS, make_data

MEMORY_HEADROOM = 64 * MIB
BENCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench.py")


def gemm_worker(args) -> dict:
    """NumPy float32 matmul GFLOP/s on the GEMMs of one training step of W3 and W4:
    forward A·W, backward Aᵀ·dZ and dZ·Wᵀ (the latter not for the first layer)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        kernels = [{"library": i.get("prefix"), "version": i.get("version"), "kernel": i.get("architecture"),
                    "threads": i.get("num_threads")} for i in threadpool_info() if i.get("user_api") == "blas"]
        thread_limit = threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:  # without threadpoolctl: kernel unknown, OpenBLAS's own thread count
        kernels, thread_limit = [{"library": "unknown (threadpoolctl not installed)", "version": None,
                                  "kernel": "unknown", "threads": None}], contextlib.nullcontext()
    report = {"kernels": kernels, "workloads": {}}
    rng = np.random.default_rng(SEED)
    with thread_limit:
        for name in GEMM_WORKLOADS:
            workload = WORKLOADS[name]
            B = workload.batch
            gemms = []
            for l, (n_in, n_out) in enumerate(workload.layer_shapes):
                A = rng.standard_normal((B, n_in), dtype=np.float32)
                W = rng.standard_normal((n_in, n_out), dtype=np.float32)
                dZ = rng.standard_normal((B, n_out), dtype=np.float32)
                flops = 2 * B * n_in * n_out
                gemms.append((f"L{l} forward ({B}×{n_in})·({n_in}×{n_out})", A, W,
                              np.empty((B, n_out), np.float32), flops))
                gemms.append((f"L{l} dW ({n_in}×{B})·({B}×{n_out})", A.T, dZ,
                              np.empty((n_in, n_out), np.float32), flops))
                if l > 0:
                    gemms.append((f"L{l} dA ({B}×{n_out})·({n_out}×{n_in})", dZ, W.T,
                                  np.empty((B, n_in), np.float32), flops))

            def step(selection=gemms):
                for _, a, b, out, _ in selection:
                    np.matmul(a, b, out=out)

            step_flops = sum(g[4] for g in gemms)
            assert step_flops == B * workload.train_flops_per_sample
            timer = timeit.Timer(step)
            timer.timeit(3)
            number, seconds = timer.autorange()
            number = max(1, int(number * args.seconds / 5 / seconds))
            step_times = [timer.timeit(number) / number for _ in range(max(args.repeats, 5))]
            per_gemm = {}
            for gemm in gemms:
                gemm_timer = timeit.Timer(lambda g=gemm: step([g]))
                n, s = gemm_timer.autorange()
                per_gemm[gemm[0]] = gemm[4] / statistics.median(
                    gemm_timer.timeit(n) / n for _ in range(3)) / 1e9
            stats = summary([step_flops / t / 1e9 for t in step_times])
            report["workloads"][name] = {"gflops": stats, "step_flops": step_flops, "per_gemm_gflops": per_gemm}
    return report


def memory_worker(args) -> dict:
    """Peak resident memory of one peer's fit on W3's data, in this fresh process.

    The peak is the kernel's high-water mark VmHWM, reset (clear_refs 5) once the data is
    loaded, so that it covers fit alone. ru_maxrss is reported too but cannot be the
    measure: a child started from a large parent inherits the parent's high-water mark.
    """
    def status_bytes(field):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise OSError(f"{field} not in /proc/self/status")

    workload = WORKLOADS[INFERENCE_WORKLOAD]
    parameters = initial_parameters(workload)
    if args.memory_peer == "torch":
        import torch  # noqa: F401  (its import is part of the baseline, not of fit)
    gc.collect()
    before_data = status_bytes("VmRSS")
    X, y = make_data(workload, args.memory_rows)
    gc.collect()
    after_data, peak_before_fit = status_bytes("VmRSS"), status_bytes("VmHWM")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the high-water mark starts again from the current RSS
    baseline = status_bytes("VmHWM")
    peer = PEER_CLASSES[args.memory_peer](workload, X, y, parameters, SEED)
    peer.train(args.memory_epochs)
    peak = status_bytes("VmHWM")
    data_bytes = X.nbytes + y.nbytes
    return {"peer": args.memory_peer, "rows": args.memory_rows, "epochs": args.memory_epochs,
            "data_bytes": data_bytes, "rss_before_data": before_data, "rss_after_data": after_data,
            "peak_while_making_data": peak_before_fit, "rss_at_reset": baseline, "peak_during_fit": peak,
            "fit_extra_bytes": peak - baseline, "peak_over_before_data": peak - before_data,
            "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "within_budget": peak - before_data <= data_bytes + MEMORY_HEADROOM}


def run_worker(mode: str, args, extra: list, env: dict, log) -> dict:
    command = [sys.executable, BENCH_SCRIPT, mode, "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--seconds", str(args.seconds), *extra]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        log(f"{mode} failed:\n{completed.stderr}")
        # The exception's own line, not the tail of a long message (which may be an array).
        lines = [line for line in completed.stderr.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)]
        return {"error": (lines[-1] if lines else "failed, see stderr")[:300]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench_gemm(args, log) -> dict:
    """GEMM limit in subprocesses: without the OpenBLAS overrides (the limit), and with the
    machine's overrides for comparison when it has any."""
    clean_env = environment_without_overrides()
    report = {"overrides_unset": run_worker("--gemm-worker", args, [], clean_env, log)}
    original = machine_overrides()
    if original:
        report["machine_overrides"] = original
        report["overrides_set"] = run_worker("--gemm-worker", args, ["--keep-openblas-env"],
                                             {**clean_env, **original}, log)
    for key in ("overrides_unset", "overrides_set"):
        if key in report and "workloads" in report[key]:
            log(f"  GEMM ({key}, kernel {', '.join(str(k['kernel']) for k in report[key]['kernels'])}): " +
                ", ".join(f"{w} {r['gflops']['median']:.1f} GFLOP/s" for w, r in report[key]["workloads"].items()))
    return report


def bench_memory(args, peers: list, log) -> dict:
    report = {}
    for name in [p for p in ("fastmlp", "torch") if p in peers]:
        report[name] = run_worker("--memory-worker", args,
                                  ["--memory-peer", name, "--memory-rows", str(args.memory_rows),
                                   "--memory-epochs", str(args.memory_epochs)], dict(os.environ), log)
        if "error" not in report[name]:
            r = report[name]
            log(f"  memory {name}: data {r['data_bytes'] / MIB:.0f} MiB, peak over before-data "
                f"{r['peak_over_before_data'] / MIB:.0f} MiB, fit's extra {r['fit_extra_bytes'] / MIB:.1f} MiB")
    return report
