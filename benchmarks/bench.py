#!/usr/bin/env python3
"""Speed benchmark of fastmlp against PyTorch (CPU), scikit-learn's MLP and plain NumPy.

Every peer trains the same networks on the same synthetic float32 data (fixed seed), from
the same initial weights where the architectures allow it, with plain SGD (lr 0.01) and
a fresh shuffle every epoch. Peers are measured round-robin after a warm-up, and the
report gives medians (with the interquartile range) of samples/s and achieved GFLOP/s.

    python benchmarks/bench.py                          # everything, about 10 minutes
    python benchmarks/bench.py --workloads W1,W3 --repeats 3 --seconds 0.5
    python benchmarks/bench.py --memory                 # only the peak-memory measurement

See benchmarks/README.md for the formulas, the peers' loops and how to install them.
"""
from __future__ import annotations

import sys

import bench_env

if __name__ == "__main__":
    bench_env.restart_without_openblas_overrides(__file__)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

from bench_limits import bench_gemm, bench_memory, gemm_worker, memory_worker  # noqa: E402
from bench_measure import bench_inference, bench_quality, bench_training  # noqa: E402
from bench_peers import ALL_PEERS, available_peers  # noqa: E402
from bench_report import machine_info, markdown  # noqa: E402
from bench_workloads import WORKLOADS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated training workloads, or 'none' (default: all of W1..W5)")
    parser.add_argument("--peers", default=",".join(ALL_PEERS),
                        help=f"comma-separated peers from {','.join(ALL_PEERS)} (default: all); "
                             "'engine' is fastmlp's raw train_epochs call")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per peer after the warm-up (default 5)")
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument("--seconds", type=float, default=1.0,
                        help="target seconds per measurement: each peer gets as many whole epochs as fit "
                             "(calibrated in the warm-up; default 1.0)")
    timing.add_argument("--epochs", type=int, default=None, help="fixed epochs per measurement for every peer")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for every library (default: all cores)")
    parser.add_argument("--rows-scale", type=float, default=1.0,
                        help="scale every workload's number of rows (e.g. 0.2 for a smoke run)")
    parser.add_argument("--guard-epochs", type=int, default=3, help="epochs of the quality guard (default 3)")
    parser.add_argument("--inference-seconds", type=float, default=0.3,
                        help="seconds per inference measurement (default 0.3)")
    parser.add_argument("--memory-rows", type=int, default=WORKLOADS["W3"].rows,
                        help="rows of W3 data for the memory measurement (default: W3's rows)")
    parser.add_argument("--memory-epochs", type=int, default=2)
    parser.add_argument("--no-inference", action="store_true", help="skip the inference measurements")
    parser.add_argument("--no-gemm", action="store_true", help="skip the NumPy GEMM limit")
    parser.add_argument("--no-guard", action="store_true", help="skip the quality guard")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--memory", action="store_true", help="only the peak-memory measurement")
    parser.add_argument("--json", metavar="PATH", help="write every measurement to this JSON file")
    parser.add_argument("--markdown", metavar="PATH", help="write the report tables to this Markdown file")
    parser.add_argument("--title", default=None, help="heading of the Markdown report")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for NumPy and scikit-learn "
                             "(by default the benchmark restarts itself without them)")
    parser.add_argument("--gemm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-peer", default="fastmlp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workloads = [] if args.workloads.lower() == "none" else [w.strip().upper() for w in args.workloads.split(",")]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    args.peers = [p.strip().lower() for p in args.peers.split(",")]
    unknown = [p for p in args.peers if p not in ALL_PEERS]
    if unknown:
        parser.error(f"unknown peer(s) {unknown}; choose from {', '.join(ALL_PEERS)}")
    if args.threads < 1 or args.repeats < 1 or args.seconds <= 0 or args.rows_scale <= 0 or \
            (args.epochs is not None and args.epochs < 1) or args.guard_epochs < 1:
        parser.error("--threads, --repeats, --epochs and --guard-epochs must be >= 1; "
                     "--seconds and --rows-scale > 0")
    return args


def set_threads(threads: int, torch: bool = True) -> None:
    """One thread count for every library; the limits stay for the whole process."""
    try:
        import fastmlp as fm
        fm.set_num_threads(threads)
    except ImportError:
        pass
    if torch:
        try:
            import torch as torch_module
            torch_module.set_num_threads(threads)
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=threads)  # OpenBLAS (NumPy, SciPy, scikit-learn) and OpenMP runtimes
    except ImportError:
        pass


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.gemm_worker:
        print(json.dumps(gemm_worker(args)))  # sets its own BLAS thread limit
        return 0
    if args.memory_worker:
        set_threads(args.threads, torch=args.memory_peer == "torch")
        print(json.dumps(memory_worker(args)))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    set_threads(args.threads)
    peers, notes = available_peers(args.peers, log)
    command = "python benchmarks/bench.py " + " ".join(sys.argv[1:])
    settings = (f"repeats {args.repeats} after a warm-up, " +
                (f"{args.epochs} epoch(s)" if args.epochs else f"~{args.seconds:g} s") +
                f" per training measurement, rows × {args.rows_scale:g}, threads {args.threads}, "
                f"quality guard {args.guard_epochs} epoch(s)")
    report = {"title": args.title or ("fastmlp benchmark" + (" (memory only)" if args.memory else "")),
              "command": command, "settings": settings, "notes": notes, "machine": machine_info(args)}
    log(f"machine: {report['machine']['cpu']}, fastmlp build {report['machine'].get('fastmlp_build')}")
    if args.memory:
        report["memory"] = bench_memory(args, peers, log)
    else:
        report["training"] = [bench_training(WORKLOADS[w], peers, args, log) for w in args.workloads]
        if not args.no_inference:
            log("inference")
            report["inference"] = bench_inference(peers, args, log)
        if not args.no_gemm:
            log("GEMM limit")
            report["gemm"] = bench_gemm(args, log)
        if not args.no_guard:
            report["quality"] = [bench_quality(WORKLOADS[w], peers, args, log) for w in args.workloads]
        if not args.no_memory:
            log("memory")
            report["memory"] = bench_memory(args, peers, log)
    report["load_average_at_end"] = os.getloadavg()
    text = markdown(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
