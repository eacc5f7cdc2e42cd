"""The machine line, the targets of issue 6 and the Markdown report."""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess

import numpy as np

from bench_env import OPENBLAS_OVERRIDES, ORIGINAL_OPENBLAS_ENV
from bench_limits import MEMORY_HEADROOM
from bench_peers import PEER_LABELS
from bench_workloads import INFERENCE_BATCH_ROWS, MIB


def machine_info(args) -> dict:
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "load_average_at_start": os.getloadavg(), "threads": args.threads}
    cpu = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                cpu.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(cpu.get("flags", "").split())
    info["cpu"] = (f"{cpu.get('model name', platform.processor())} (family {cpu.get('cpu family', '?')}, "
                   f"model {cpu.get('model', '?')}; " +
                   " ".join(f for f in ("avx2", "fma", "avx512f") if f in flags) + ")")
    info["numpy"] = np.__version__
    for module in ("torch", "sklearn", "threadpoolctl"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    try:
        import fastmlp as fm
        info["fastmlp"] = fm.__version__
        build_info = getattr(fm._core, "build_info", None)
        info["fastmlp_build"] = dict(build_info()) if build_info else {}
        info["fastmlp_threads"] = fm.get_num_threads()
        kernel_info = getattr(fm, "matrix_kernel_info", None)  # decides now, before anything is timed
        info["fastmlp_matrix_kernel"] = dict(kernel_info()) if kernel_info else {}
    except ImportError:
        info["fastmlp"] = None
    if info.get("torch"):
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{"library": i.get("prefix"), "version": i.get("version"), "kernel": i.get("architecture"),
                         "threads": i.get("num_threads"), "file": os.path.basename(i.get("filepath", ""))}
                        for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = []
    info["openblas_overrides"] = json.loads(os.environ.get(ORIGINAL_OPENBLAS_ENV, "{}"))
    info["openblas_overrides_active"] = {k: os.environ[k] for k in OPENBLAS_OVERRIDES if k in os.environ}
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git"] = commit + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        info["git"] = None
    return info


TARGETS = {"W1": 30.0, "W2": 6.0, "W3": 1.4, "W4": 1.1, "W5": 10.0}
SKLEARN_TARGET = 2.0
GEMM_SHARE_TARGET = 0.85
LATENCY_TARGET_US = 8.0
BATCH_PREDICT_TARGET = 1.2


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ratio(value) -> str:
    return "–" if value is None else (f"{value:.1f}×" if value >= 10 else f"{value:.2f}×")


def speedup(results: dict, peer: str, key=lambda r: r["samples_per_s"]["median"]):
    if "fastmlp" not in results or peer not in results:
        return None
    return key(results["fastmlp"]) / key(results[peer])


def gemm_limit(report: dict, workload: str):
    try:
        return report["gemm"]["overrides_unset"]["workloads"][workload]["gflops"]["median"]
    except (KeyError, TypeError):
        return None


def targets_table(report: dict) -> list:
    """(target, measured, status) rows for every target of issue 6 that this run measured."""
    rows = []

    def verdict(ok):
        return "met" if ok else "**NOT met**"

    training = {t["workload"]: t["peers"] for t in report.get("training", [])}
    for name, factor in TARGETS.items():
        ratio = speedup(training.get(name, {}), "torch")
        if ratio is not None:
            rows.append((f"{name} ≥ {factor:g}× PyTorch samples/s", fmt_ratio(ratio), verdict(ratio >= factor)))
        if name == "W4" and "fastmlp" in training.get(name, {}) and gemm_limit(report, "W4"):
            share = training[name]["fastmlp"]["gflops"] / gemm_limit(report, "W4")
            rows.append((f"W4 ≥ {GEMM_SHARE_TARGET:.0%} of NumPy GEMM GFLOP/s on its shapes",
                         f"{share:.0%} ({training[name]['fastmlp']['gflops']:.1f} of {gemm_limit(report, 'W4'):.1f})",
                         verdict(share >= GEMM_SHARE_TARGET)))
    for name, peers in training.items():
        ratio = speedup(peers, "sklearn")
        if ratio is not None:
            rows.append((f"{name} ≥ {SKLEARN_TARGET:g}× scikit-learn samples/s", fmt_ratio(ratio),
                         verdict(ratio >= SKLEARN_TARGET)))
    inference = report.get("inference", {}).get("results", {})
    one = inference.get("1 row", {})
    if "fastmlp" in one:
        latency = one["fastmlp"]["microseconds_per_call"]["median"]
        rows.append((f"W3 predict 1 row ≤ {LATENCY_TARGET_US:g} µs (median, from Python)", f"{latency:.2f} µs",
                     verdict(latency <= LATENCY_TARGET_US)))
    batch = inference.get(f"{INFERENCE_BATCH_ROWS:,} rows", {})
    if "fastmlp" in batch and "torch" in batch:
        ratio = batch["fastmlp"]["rows_per_s"] / batch["torch"]["rows_per_s"]
        rows.append((f"W3 predict {INFERENCE_BATCH_ROWS:,} rows ≥ {BATCH_PREDICT_TARGET:g}× PyTorch",
                     fmt_ratio(ratio), verdict(ratio >= BATCH_PREDICT_TARGET)))
    memory = report.get("memory", {}).get("fastmlp")
    if memory and "error" not in memory:
        rows.append(("fit on W3 data: peak RSS − RSS before data ≤ data + 64 MiB",
                     f"{memory['peak_over_before_data'] / MIB:.0f} MiB ≤ "
                     f"{(memory['data_bytes'] + MEMORY_HEADROOM) / MIB:.0f} MiB?",
                     verdict(memory["within_budget"])))
    for quality in report.get("quality", []):
        entry = quality["peers"].get("fastmlp", {})
        if "agrees" in entry:
            rows.append((f"{quality['workload']} quality: fastmlp = PyTorch within noise",
                         f"loss {entry['loss']:.4f} vs {quality['peers']['torch']['loss']:.4f}",
                         verdict(entry["agrees"])))
    return rows


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"### {report['title']}", ""]
    build = m.get("fastmlp_build") or {}
    blas = "; ".join(f"{b['library']} {b['version']} kernel {b['kernel']} ({b['threads']} threads)"
                     for b in m.get("blas", []))
    overrides = m.get("openblas_overrides") or {}
    lines += [
        f"- Date: {m['date']}; git {m.get('git')}; command: `{report['command']}`",
        f"- CPU: {m['cpu']}; {m['cores']} cores ({m['usable_cores']} usable); benchmark threads: {m['threads']}; "
        f"load average at start {m['load_average_at_start'][0]:.2f}, "
        f"at end {report.get('load_average_at_end', [0])[0]:.2f}",
        f"- fastmlp {m.get('fastmlp')} (build_info: " +
        ", ".join(f"{key} {value}" for key, value in build.items() if key != "version") +
        f"; threads {m.get('fastmlp_threads')}); "
        f"PyTorch {m.get('torch')} (threads {m.get('torch_threads')}, CPU capability {m.get('torch_cpu_capability')}); "
        f"scikit-learn {m.get('sklearn')}; NumPy {m['numpy']}; Python {m['python']}",
        "- fastmlp's large training products: " + _matrix_kernel_line(m.get("fastmlp_matrix_kernel") or {}),
        f"- BLAS for NumPy/scikit-learn: {blas or 'unknown'}; OpenBLAS overrides of this machine "
        f"{overrides or 'none'} were " + ("unset for this run" if overrides else "not present") +
        (f" (still active: {m['openblas_overrides_active']})" if m.get("openblas_overrides_active") else ""),
        f"- Settings: {report['settings']}",
    ]
    busy = max(m["load_average_at_start"][0], report.get("load_average_at_end", [0])[0])
    if busy > 0.5 * m["usable_cores"]:
        lines.append(f"- **Warning: the machine was busy (load average up to {busy:.1f} on {m['usable_cores']} cores); "
                     "other processes competed for the cores and these numbers understate every peer unevenly.**")
    lines += [f"- Note: {note}" for note in report.get("notes", [])]
    if report.get("training"):
        lines += ["", "#### Training (samples/s, median of the repeats, [IQR]; "
                      "fastmlp ÷ peer = fastmlp's speed-up)", "",
                  "| workload | peer | samples/s | IQR | GFLOP/s | fastmlp ÷ peer | epochs × s per measurement |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for t in report["training"]:
            for name, r in t["peers"].items():
                s = r["samples_per_s"]
                lines.append(f"| {t['workload']} {t['network']} | {PEER_LABELS[name]} | {fmt_rate(s['median'])} | "
                             f"{fmt_rate(s['q1'])}–{fmt_rate(s['q3'])} | {r['gflops']:.2f} | "
                             f"{fmt_ratio(speedup(t['peers'], name)) if name != 'fastmlp' else '1'} | "
                             f"{r['epochs_per_measurement']} × {r['seconds_per_measurement']:.2f} |")
    if report.get("inference"):
        inf = report["inference"]
        lines += ["", f"#### Inference, {inf['workload']} network {inf['network']} "
                      f"(median µs per call, [IQR]; PyTorch: tensor in/out under inference_mode)", "",
                  "| rows per call | peer | µs per call | IQR | rows/s | GFLOP/s | fastmlp ÷ peer |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for rows, peers in inf["results"].items():
            for name, r in peers.items():
                s = r["microseconds_per_call"]
                ratio = None
                if "fastmlp" in peers and name != "fastmlp":
                    ratio = peers["fastmlp"]["rows_per_s"] / r["rows_per_s"]
                lines.append(f"| {rows} | {PEER_LABELS[name]} | {s['median']:,.2f} | {s['q1']:,.2f}–{s['q3']:,.2f} | "
                             f"{fmt_rate(r['rows_per_s'])} | {r['gflops']:.2f} | "
                             f"{fmt_ratio(ratio) if name != 'fastmlp' else '1'} |")
    gemm = report.get("gemm")
    if gemm:
        lines += ["", "#### Practical limit: NumPy float32 matmul on the GEMMs of one training step", "",
                  "| workload | OpenBLAS overrides | kernel | step GFLOP/s (median) | IQR "
                  "| fastmlp training GFLOP/s | fastmlp share |",
                  "|---|---|---|---:|---:|---:|---:|"]
        training = {t["workload"]: t["peers"] for t in report.get("training", [])}
        for key, label in (("overrides_unset", "unset"),
                           ("overrides_set", f"as set here {gemm.get('machine_overrides')}")):
            run = gemm.get(key)
            if not run:
                continue
            if "error" in run:
                lines.append(f"| – | {label} | failed: {run['error']} | | | | |")
                continue
            kernel = ", ".join(str(k["kernel"]) for k in run["kernels"])
            for name, r in run["workloads"].items():
                fm_gflops = training.get(name, {}).get("fastmlp", {}).get("gflops")
                share = f"{fm_gflops / r['gflops']['median']:.0%}" if fm_gflops else "–"
                lines.append(f"| {name} | {label} | {kernel} | {r['gflops']['median']:.1f} | "
                             f"{r['gflops']['q1']:.1f}–{r['gflops']['q3']:.1f} | "
                             f"{f'{fm_gflops:.1f}' if fm_gflops else '–'} | {share} |")
        unset = gemm.get("overrides_unset", {})
        for name, r in unset.get("workloads", {}).items():
            lines.append("")
            lines.append(f"{name} per GEMM (overrides unset): " +
                         "; ".join(f"{label} {g:.1f}" for label, g in r["per_gemm_gflops"].items()) + " GFLOP/s")
    if report.get("quality"):
        lines += ["", "#### Quality guard (same data, same initial weights, same epochs; float64 evaluation "
                      "on the training set; fastmlp and PyTorch: mean of two shuffle seeds)", "",
                  "| workload | epochs | peer | loss | accuracy | seed spread (loss) | Δ loss vs PyTorch | verdict |",
                  "|---|---:|---|---:|---:|---:|---:|---|"]
        for q in report["quality"]:
            lines.append(f"| {q['workload']} | {q['epochs']} | initial weights | {q['initial']['loss']:.4f} | "
                         f"{q['initial'].get('accuracy', float('nan')):.4f} | | | |")
            for name, e in q["peers"].items():
                if "agrees" in e:
                    verdict = ("agrees" if e["agrees"] else "**DIFFERS**") + ("" if e["judged"] else " (not judged)")
                else:
                    verdict = "reference" if name == "torch" else "– (no PyTorch to compare with)"
                diff = e.get("diff_vs_torch", {}).get("loss")
                spread = f"{e['seed_spread']['loss']:.4f}" if name in ("fastmlp", "torch") else "–"
                lines.append(f"| {q['workload']} | {q['epochs']} | {PEER_LABELS[name]} | {e['loss']:.4f} | "
                             f"{e.get('accuracy', float('nan')):.4f} | {spread} | "
                             f"{'' if diff is None else f'{diff:+.4f}'} | {verdict} |")
        tolerances = {q["workload"]: q["tolerance"] for q in report["quality"] if q.get("tolerance")}
        if tolerances:
            lines += ["", "Allowed difference from PyTorch "
                          "(max of 3× seed spread and 0.5% of the loss / 0.01 accuracy): " +
                      "; ".join(f"{w}: " + ", ".join(f"{k} {v:.4f}" for k, v in t.items())
                                for w, t in tolerances.items())]
        for q in report["quality"]:
            lines += [f"- **{flag}**" for flag in q["flags"]]
    memory = report.get("memory")
    if memory:
        lines += ["", "#### Peak resident memory of fit on W3 data "
                      "(fresh subprocess; VmHWM reset after loading the data)",
                  "", "| peer | rows × epochs | data | RSS before data | RSS after data "
                      "| peak during fit − RSS before data "
                      "| fit's own extra | budget: data + 64 MiB |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        for name, r in memory.items():
            if "error" in r:
                lines.append(f"| {PEER_LABELS[name]} | failed: {r['error']} | | | | | | |")
                continue
            lines.append(f"| {PEER_LABELS[name]} | {r['rows']:,} × {r['epochs']} | {r['data_bytes'] / MIB:.1f} MiB | "
                         f"{r['rss_before_data'] / MIB:.1f} MiB | {r['rss_after_data'] / MIB:.1f} MiB | "
                         f"{r['peak_over_before_data'] / MIB:.1f} MiB | {r['fit_extra_bytes'] / MIB:.1f} MiB | "
                         f"{(r['data_bytes'] + MEMORY_HEADROOM) / MIB:.1f} MiB: "
                         f"{'within' if r['within_budget'] else '**over**'} |")
    targets = targets_table(report)
    if targets:
        lines += ["", "#### Targets of issue 6", "", "| target | measured | status |", "|---|---|---|"]
        lines += [f"| {t} | {v} | {s} |" for t, v, s in targets]
    return "\n".join(lines) + "\n"


def _matrix_kernel_line(kernel: dict) -> str:
    """Which kernel fastmlp's large training products ran on, and why (fm.matrix_kernel_info)."""
    if not kernel:
        return "Eigen (this fastmlp has no other kernel)"
    name = {"blas": f"OpenBLAS ({kernel.get('library_description')})", "eigen": "Eigen"}[kernel["kernel"]]
    return f"{name}; setting {kernel.get('setting')}: {kernel.get('reason')}"

