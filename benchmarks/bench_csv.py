"""Loading a CSV file: fastmlp's reader (pandas' C parser and its checks) against pandas and others.

    python benchmarks/bench_csv.py                      # 200,000 x 21, 5 runs per reader
    python benchmarks/bench_csv.py --rows 50000 --repeats 3 --readers fastmlp,pandas

The file has 20 float64 feature columns written with repr (17 significant digits) and an integer
class column, as `fastmlp train` meets them. Every run is a fresh subprocess that imports its
library, then times one load and measures its peak resident memory above the size before it (Linux:
VmHWM reset through /proc/self/clear_refs, since exec keeps the parent's peak; elsewhere ru_maxrss): the
table gives the median seconds and the median peak growth, and their ratios to pandas.read_csv
measured in the same run, readers taking turns (the paired ratio is the median over rounds of a
reader's time over pandas' time in the same round). Nothing here asserts a time.

Readers: fastmlp (datasets.tables.read_table: the file as typed columns, checks included),
fastmlp-train (read_table, then the TableSchema fitted and the encoded float64 matrix, what train
does before fitting), pandas (read_csv, C engine, then to_numpy), pyarrow (pyarrow.csv.read_csv,
when installed), numpy (numpy.loadtxt) and load_csv (fastmlp.datasets.load_csv, the csv module
and Python floats, the CLI's reader before issue 15).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import numpy as np

READERS = ("fastmlp", "fastmlp-train", "pandas", "pyarrow", "numpy", "load_csv")

_CHILD = r"""
import json, resource, sys, time
reader, path = sys.argv[1], sys.argv[2]
import numpy as np
if reader.startswith("fastmlp"):
    import pandas
    from fastmlp.datasets.schema import TableSchema, infer_roles
    from fastmlp.datasets.tables import read_table
elif reader == "pandas":
    import pandas
elif reader == "pyarrow":
    import pyarrow.csv
elif reader == "load_csv":
    from fastmlp.datasets import load_csv
def kib(field):
    with open("/proc/self/status") as stream:
        return next(int(line.split()[1]) for line in stream if line.startswith(field + ":"))
try:  # Linux: reset the high-water mark to the present size (exec keeps the parent's), then read both
    with open("/proc/self/clear_refs", "w") as stream:
        stream.write("5")
    before = kib("VmRSS")
except OSError:
    before = None
    ru_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
if reader == "fastmlp":
    table = read_table(path)
elif reader == "fastmlp-train":
    table = read_table(path)
    schema, X = TableSchema.fit_encode(table, infer_roles(table, exclude={"y"}))
elif reader == "pandas":
    X = pandas.read_csv(path, engine="c").to_numpy(np.float64)
elif reader == "pyarrow":
    arrow = pyarrow.csv.read_csv(path)
    X = np.column_stack([column.to_numpy() for column in arrow.columns])
elif reader == "numpy":
    X = np.loadtxt(path, delimiter=",", skiprows=1)
else:
    data = load_csv(path, target="y")
seconds = time.perf_counter() - started
if before is not None:
    growth = kib("VmHWM") - before
else:
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - ru_before
print(json.dumps({"seconds": seconds, "peak_mb": growth / 1024}))
"""


def write_file(path: str, rows: int, features: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(",".join([f"x{j}" for j in range(features)] + ["y"]) + "\n")
        for start in range(0, rows, 10_000):
            block = rng.standard_normal((min(10_000, rows - start), features))
            labels = rng.integers(0, 3, block.shape[0])
            stream.write("".join(",".join(map(repr, row)) + f",{label}\n"
                                 for row, label in zip(block.tolist(), labels.tolist())))


def available(reader: str) -> bool:
    module = {"pandas": "pandas", "pyarrow": "pyarrow", "fastmlp": "pandas", "fastmlp-train": "pandas"}.get(reader)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def measure(reader: str, path: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _CHILD, reader, path], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def cpu_line() -> str:
    name = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            name = next(line.split(":", 1)[1].strip() for line in stream if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20, help="float columns besides the class column (20)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--path", default=None, help="keep the generated file here (default: a temporary folder)")
    args = parser.parse_args(argv)
    readers = [reader for reader in args.readers.split(",") if reader]
    skipped = [reader for reader in readers if not available(reader)]
    readers = [reader for reader in readers if reader not in skipped]
    with tempfile.TemporaryDirectory() as folder:
        path = args.path or os.path.join(folder, "bench.csv")
        write_file(path, args.rows, args.features)
        size_mb = os.path.getsize(path) / 2 ** 20
        runs: dict = {reader: [] for reader in readers}
        for repeat in range(args.repeats):
            for reader in readers[repeat % len(readers):] + readers[:repeat % len(readers)]:
                runs[reader].append(measure(reader, path))
                print(f"  {reader}: {runs[reader][-1]['seconds']:.2f} s", file=sys.stderr, flush=True)
    seconds = {r: statistics.median(run["seconds"] for run in runs[r]) for r in readers}
    peaks = {r: statistics.median(run["peak_mb"] for run in runs[r]) for r in readers}
    base = "pandas" if "pandas" in readers else readers[0]
    print(f"CSV loading: {args.rows:,} rows x {args.features + 1} columns, {size_mb:.0f} MiB; {cpu_line()}; "
          f"median of {args.repeats} runs, each in a fresh process\n")
    # On a busy machine the paired ratio (each run against the base's run of the same round) is the steadier one.
    paired = {r: statistics.median(a["seconds"] / b["seconds"] for a, b in zip(runs[r], runs[base])) for r in readers}
    print(f"| reader | seconds | vs {base} | paired vs {base} | peak memory growth (MiB) | vs {base} | vs file size |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for reader in readers:
        print(f"| {reader} | {seconds[reader]:.2f} | {seconds[reader] / seconds[base]:.2f} | {paired[reader]:.2f} | "
              f"{peaks[reader]:.0f} | {peaks[reader] / max(peaks[base], 1e-9):.2f} | {peaks[reader] / size_mb:.2f} |")
    if skipped:
        print(f"\nnot installed, skipped: {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
