#!/usr/bin/env python3
"""lineage side by side with ONNX Runtime, OpenVINO and PyTorch on the case study's models.

    /work/venv/bin/python bench/peers/compare.py                      # all twelve models
    /work/venv/bin/python bench/peers/compare.py resnet50 googlenet --runs 10

For each model, in one sitting and interleaved model by model: lineage's `zoo --json` (random
weights), then the same architecture with random weights in PyTorch (eager) and exported to
ONNX for ONNX Runtime and (when the venv has it) OpenVINO's CPU plugin, each at 1 and 2
threads, batch 1, f32, the same number of timed runs after a warm-up. The table gives each
median and the ratio lineage / peer (below 1: lineage is faster), then the same ratios on
each engine's fastest run (`best`): the VM's speed comes and goes in phases of seconds, and a
median of ten runs lands in whichever phase the engine met.

Clocks: at 1 thread every engine is timed on the calling thread's CPU time (lineage's zoo
does this; here time.thread_time), so other processes on a shared machine do not count; this
script checks that the peer did all its work on the calling thread (process CPU time equal to
thread CPU time) and falls back to wall time, marked `wall`, if not. At 2 threads all are wall
time. The load average is printed per model: compare figures of one run only.

Models: torchvision, timm for inception_v4 and mobilenet_v1 (mobilenetv1_100), pytorchcv for
inception_v2 (its `bninception`, whose names lineage uses), and the ones that none has,
alexnet_original (the paper's AlexNet: 96 first filters, LRN), its two-tower form
alexnet_grouped (groups = 2 in conv2, conv4, conv5) and zfnet, written below after
lineage's definitions. Uses bench/peers/time_peers.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import time_peers as tp  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODELS = ["alexnet_original", "alexnet_grouped", "zfnet", "vgg16", "googlenet",
                  "resnet50", "inception_v2", "inception_v3", "inception_v4", "resnext50_32x4d",
                  "densenet121", "mobilenet_v1", "mobilenet_v2"]
# lineage name -> time_peers.build_model name, where they differ.
PEER_NAMES = {"mobilenet_v1": "mobilenetv1_100"}


def paper_lrn() -> nn.Module:
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


def alexnet_original(groups: int = 1) -> nn.Module:
    """nets/src/models/alexnet.rs alexnet_original: 96-256-384-384-256 with LRN; with
    groups=2, alexnet_grouped (the paper's two towers in conv2, conv4 and conv5)."""
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(), paper_lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, 1, 2, groups=groups), nn.ReLU(), paper_lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, 1, 1, groups=groups), nn.ReLU(),
        nn.Conv2d(384, 256, 3, 1, 1, groups=groups), nn.ReLU(), nn.MaxPool2d(3, 2),
        # lineage's adaptive 6x6 average pool is the identity on the 6x6 map of a 224 input,
        # and torch.onnx cannot export it inside this traced Sequential: left out.
        nn.Flatten(),
        nn.Linear(256 * 36, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000))


def zfnet() -> nn.Module:
    """nets/src/models/zfnet.rs: 7x7/2 first conv, LRN, ceil-mode pools."""
    def pool():
        return nn.MaxPool2d(3, 2, ceil_mode=True)
    return nn.Sequential(
        nn.Conv2d(3, 96, 7, 2, 1), nn.ReLU(), paper_lrn(), pool(),
        nn.Conv2d(96, 256, 5, 2, 0), nn.ReLU(), paper_lrn(), pool(),
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(), nn.Conv2d(384, 384, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(), pool(), nn.Flatten(),
        nn.Linear(256 * 36, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000))


def inception_v2() -> nn.Module:
    """nets/src/models/inception_v2.rs is pytorchcv's BN-Inception, structure and names."""
    from pytorchcv.model_provider import get_model
    return get_model("bninception", pretrained=False)


def build(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    if name == "inception_v2":
        return inception_v2(), (1, 3, 224, 224)
    if name == "alexnet_original":
        return alexnet_original(), (1, 3, 224, 224)
    if name == "alexnet_grouped":
        return alexnet_original(groups=2), (1, 3, 224, 224)
    if name == "zfnet":
        return zfnet(), (1, 3, 224, 224)
    return tp.build_model(PEER_NAMES.get(name, name))


def timed(fn, threads: int, warmup: int, runs: int) -> tuple[list[float], str]:
    """Seconds per call: thread CPU time at 1 thread if all the work ran on this thread."""
    for _ in range(warmup):
        fn()
    if threads == 1:
        out, proc, thread = [], 0.0, 0.0
        for _ in range(runs):
            p0, t0 = time.process_time(), time.thread_time()
            fn()
            t1, p1 = time.thread_time(), time.process_time()
            out.append(t1 - t0)
            thread += t1 - t0
            proc += p1 - p0
        if proc <= 1.05 * thread + 1e-3:
            return out, "thread CPU"
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out, "wall"


def time_onnxruntime(path: Path, x, threads: int, args) -> tuple[list[float], str]:
    sess = tp.ort_session(path, threads)
    feed = {"input": x.numpy()}
    return timed(lambda: sess.run(None, feed), threads, args.warmup, args.runs)


def time_openvino(path: Path, x, threads: int, args) -> tuple[list[float], str]:
    """OpenVINO's CPU plugin on the same ONNX file: latency hint, one stream, `threads`
    inference threads, f32 (it would pick bf16 on CPUs with AMX or AVX-512 BF16)."""
    import openvino as ov
    config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1",
              "INFERENCE_NUM_THREADS": str(threads), "INFERENCE_PRECISION_HINT": "f32"}
    request = ov.Core().compile_model(str(path), "CPU", config).create_infer_request()
    xi = x.numpy()
    return timed(lambda: request.infer({0: xi}), threads, args.warmup, args.runs)


def openvino_version() -> str | None:
    try:
        import openvino as ov
    except ImportError:
        return None
    return ov.__version__.split("-")[0]


def time_pytorch(module, x, threads: int, args) -> tuple[list[float], str]:
    """The faster of the default (NCHW) and channels_last memory formats, as time_peers."""
    torch.set_num_threads(threads)
    best = None
    for fmt_name, fmt in (("nchw", torch.contiguous_format), ("cl", torch.channels_last)):
        m = module.to(memory_format=fmt)
        xi = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            s, clock = timed(lambda: m(xi), threads, args.warmup, args.runs)
        if best is None or statistics.median(s) < statistics.median(best[0]):
            best = (s, f"{clock}, {fmt_name}")
    module.to(memory_format=torch.contiguous_format)
    return best


def run_lineage(zoo: Path, model: str, threads: list[int], runs: int, tmp: Path) -> dict:
    out = tmp / f"{model}.json"
    subprocess.run([str(zoo), "--models", model, "--threads", ",".join(map(str, threads)),
                    "--runs", str(runs), "--json", str(out)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {r["threads"]: r for r in json.loads(out.read_text())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=10, help="timed runs per engine and thread count")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write every figure here")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "lineage-bench", "--bin", "zoo"],
                   cwd=REPO, check=True)
    zoo = REPO / "target" / "release" / "zoo"
    info = tp.machine()
    info["openvino"] = openvino_version()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {info['cpu']} "
          f"({info['cores']} cores), torch {info['torch']} [{info['torch_cpu_capability']}], "
          f"onnxruntime {info['onnxruntime']}, openvino {info['openvino'] or 'not installed'}, "
          f"batch 1, random weights, {args.runs} runs "
          f"after {args.warmup} warm-up")
    print("# median ms; ratio = lineage / peer (below 1: lineage faster), on medians and on best runs; "
          "1 thread on thread CPU time, 2 threads on wall time")
    header = (f"{'model':18s} {'thr':>3s} {'lineage':>9s} {'onnxrt':>9s} {'openvino':>9s} "
              f"{'pytorch':>9s} {'/onnxrt':>8s} {'/openvino':>9s} {'/pytorch':>8s} "
              f"{'best/ort':>8s} {'best/ov':>8s}  {'load':>5s}  peer clocks")
    print(header)
    results = []
    with tempfile.TemporaryDirectory(prefix="lineage-compare-") as tmp:
        tmp = Path(tmp)
        for name in args.models:
            load = os.getloadavg()[0]
            try:
                lineage = run_lineage(zoo, name, args.threads, args.runs, tmp)
                module, shape = build(name)
                module.eval()
                torch.manual_seed(0)
                x = torch.randn(shape)
                onnx_path = tmp / f"{name}.onnx"
                tp.export_onnx(module, x, onnx_path)
            except Exception as e:  # one model's failure should not cost the others' figures
                print(f"{name:18s} failed: {str(e).splitlines()[0][:200]}", flush=True)
                continue
            for t in args.threads:
                ort_s, ort_clock = time_onnxruntime(onnx_path, x, t, args)
                ov_s, ov_clock = [float("nan")], "-"
                if info["openvino"]:
                    ov_s, ov_clock = time_openvino(onnx_path, x, t, args)
                ov_ms = statistics.median(ov_s) * 1e3
                pt_s, pt_clock = time_pytorch(module, x, t, args)
                ours, our_best = lineage[t]["median_ms"], lineage[t]["best_ms"]
                ort_best, ov_best = min(ort_s) * 1e3, min(ov_s) * 1e3
                ort_ms = statistics.median(ort_s) * 1e3
                pt_ms = statistics.median(pt_s) * 1e3
                row = {"model": name, "threads": t, "lineage_ms": ours, "lineage_clock":
                       lineage[t]["clock"], "onnxruntime_ms": ort_ms, "onnxruntime_clock": ort_clock,
                       "openvino_ms": ov_ms, "openvino_clock": ov_clock, "lineage_best_ms": our_best,
                       "onnxruntime_best_ms": ort_best, "openvino_best_ms": ov_best,
                       "pytorch_ms": pt_ms, "pytorch_clock": pt_clock, "load": load}
                results.append(row)
                print(f"{name:18s} {t:3d} {ours:9.2f} {ort_ms:9.2f} {ov_ms:9.2f} {pt_ms:9.2f} "
                      f"{ours / ort_ms:8.2f} {ours / ov_ms:9.2f} {ours / pt_ms:8.2f} "
                      f"{our_best / ort_best:8.2f} {our_best / ov_best:8.2f}  {load:5.2f}  "
                      f"ort {ort_clock}; ov {ov_clock}; torch {pt_clock}", flush=True)
            onnx_path.unlink()
            del module
    end = os.getloadavg()
    print(f"# load average at the end: {end[0]:.2f} {end[1]:.2f} {end[2]:.2f} "
          f"(2 cores, shared: figures are noisy)")
    if args.json:
        info["loadavg_end"] = end
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))


if __name__ == "__main__":
    main()
