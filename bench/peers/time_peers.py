#!/usr/bin/env python3
"""Time the peer engines (ONNX Runtime, PyTorch eager) that lineage is compared with.

Run inside the venv made by bench/peers/setup_venv.sh:

    /work/venv/bin/python bench/peers/time_peers.py         # resnet50 mobilenet_v2 + layers
    /work/venv/bin/python bench/peers/time_peers.py vgg16 --no-layers --threads 1
    /work/venv/bin/python bench/peers/time_peers.py --no-models --json /tmp/layers.json

What is measured, per model or layer, per thread count (default 1 and 2), batch 1:
  * onnxruntime: the module exported with torch.onnx at opset 17, CPU execution provider,
    graph optimizations ORT_ENABLE_ALL, intra_op_num_threads=N, inter_op_num_threads=1.
  * pytorch: eval mode, torch.inference_mode(), torch.set_num_threads(N); timed once with the
    default (NCHW) memory format and once with channels_last; the faster is reported (its
    format is in the `variant` column).
Each is warmed up, then called `--runs` times (one call = one sample); the table shows the
median, the 99th percentile and the fastest sample, GFLOP/s = conv+linear FLOPs / median time
and `best` = the same FLOPs / fastest sample (2 FLOPs per multiply-add, counted with forward
hooks, so it is the same count for every peer). On a loaded machine the fastest sample is the
steadiest estimate of the uncontended speed; the median is what the Rust benches are compared
with when the machine is quiet.

Weights are random: timing does not depend on their values. The machine is shared and noisy;
compare figures measured in the same run (the JSON records the load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")


@dataclass
class Layer:
    """One convolution, named as the kernels report names it."""
    name: str
    cin: int
    cout: int
    kernel: tuple[int, int]
    stride: int
    pad: tuple[int, int]
    groups: int
    hw: int  # input height = width

    def module(self) -> nn.Module:
        return nn.Conv2d(self.cin, self.cout, self.kernel, self.stride, self.pad,
                         groups=self.groups, bias=False)

    def input_shape(self) -> tuple[int, ...]:
        return (1, self.cin, self.hw, self.hw)


def conv(name, cin, cout, k, hw, stride=1, pad=None, groups=1) -> Layer:
    kh, kw = (k, k) if isinstance(k, int) else k
    pad = pad if pad is not None else (kh // 2, kw // 2)
    return Layer(name, cin, cout, (kh, kw), stride, pad, groups, hw)


LAYERS = [
    conv("resnet50 3x3 64@56", 64, 64, 3, 56),
    conv("resnet50 3x3 128@28", 128, 128, 3, 28),
    conv("resnet50 3x3 256@14", 256, 256, 3, 14),
    conv("resnet50 3x3 512@7", 512, 512, 3, 7),
    conv("resnet50 1x1 256->64@56", 256, 64, 1, 56),
    conv("resnet50 1x1 64->256@56", 64, 256, 1, 56),
    conv("resnet50 1x1 1024->256@14", 1024, 256, 1, 14),
    conv("resnet50 1x1 2048->512@7", 2048, 512, 1, 7),
    conv("vgg16 3x3 64@224", 64, 64, 3, 224),
    conv("vgg16 3x3 256@56", 256, 256, 3, 56),
    conv("inception_v3 1x7 192@17", 192, 192, (1, 7), 17),
    conv("inception_v3 7x1 192@17", 192, 192, (7, 1), 17),
    conv("inception_v3 1x3 384@8", 384, 384, (1, 3), 8),
    conv("inception_v3 3x1 384@8", 384, 384, (3, 1), 8),
    conv("alexnet conv1 11x11/4 3->96@224", 3, 96, 11, 224, stride=4, pad=(2, 2)),
    conv("depthwise 3x3 s1 32@112", 32, 32, 3, 112, groups=32),
    conv("depthwise 3x3 s1 144@56", 144, 144, 3, 56, groups=144),
    conv("depthwise 3x3 s1 512@14", 512, 512, 3, 14, groups=512),
    conv("depthwise 3x3 s2 64@112", 64, 64, 3, 112, stride=2, groups=64),
    conv("depthwise 3x3 s2 512@14", 512, 512, 3, 14, stride=2, groups=512),
    conv("grouped 3x3 g32 128@56", 128, 128, 3, 56, groups=32),
    conv("grouped 3x3 g32 256@28", 256, 256, 3, 28, groups=32),
    conv("grouped 3x3 g32 512@14", 512, 512, 3, 14, groups=32),
    conv("grouped 3x3 g32 1024@7", 1024, 1024, 3, 7, groups=32),
]


def build_model(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    from torchvision import models as m
    if name in ("inception_v4", "mobilenetv1_100") or name.startswith("timm:"):
        import timm
        tname = name.removeprefix("timm:")
        model = timm.create_model(tname, pretrained=False)
        size = model.pretrained_cfg.get("input_size", (3, 224, 224))[-1]
        return model, (1, 3, size, size)
    if name == "googlenet":
        return m.googlenet(weights=None, aux_logits=False, init_weights=True), (1, 3, 224, 224)
    if name == "inception_v3":
        return (m.inception_v3(weights=None, aux_logits=False, init_weights=True),
                (1, 3, 299, 299))
    return getattr(m, name)(weights=None), (1, 3, 224, 224)


def count_flops(module: nn.Module, x: torch.Tensor) -> float:
    """Conv + Linear FLOPs (2 per multiply-add) of one forward pass."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            total += 2 * out.numel() * (mod.in_channels // mod.groups) * kh * kw
        elif isinstance(mod, nn.Linear):
            total += 2 * out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        module(x)
    for h in handles:
        h.remove()
    return float(total)


def samples(fn, warmup: int, runs: int, min_seconds: float) -> list[float]:
    """Seconds per call; at least `runs` calls, more if they take less than `min_seconds`."""
    for _ in range(warmup):
        fn()
    out = []
    start = time.perf_counter()
    while len(out) < runs or (time.perf_counter() - start < min_seconds and len(out) < 100 * runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def time_pytorch(module, x, threads, args) -> tuple[list[float], str]:
    torch.set_num_threads(threads)
    best = None
    formats = (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last))
    for fmt_name, fmt in formats:
        m = module.to(memory_format=fmt)
        xi = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            s = samples(lambda: m(xi), args.warmup, args.runs, args.min_seconds)
        if best is None or statistics.median(s) < statistics.median(best[0]):
            best = (s, fmt_name)
    module.to(memory_format=torch.contiguous_format)
    return best


def export_onnx(module, x, path: Path) -> None:
    kwargs = dict(opset_version=17, input_names=["input"], output_names=["output"])
    try:
        torch.onnx.export(module, (x,), str(path), dynamo=False, **kwargs)
    except TypeError:  # torch without the `dynamo` argument
        torch.onnx.export(module, (x,), str(path), **kwargs)


def ort_session(onnx_path: Path, threads: int):
    """An ONNX Runtime CPU session as the docstring above describes: all graph optimizations,
    `threads` intra-op threads, sequential execution."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])


def time_ort(onnx_path: Path, x, threads, args) -> list[float]:
    sess = ort_session(onnx_path, threads)
    feed = {"input": x.numpy()}
    return samples(lambda: sess.run(None, feed), args.warmup, args.runs, args.min_seconds)


def record(kind, name, peer, threads, s, flops, variant=""):
    med = statistics.median(s)
    return {"kind": kind, "name": name, "peer": peer, "threads": threads, "variant": variant,
            "runs": len(s), "median_ms": med * 1e3,
            "p99_ms": float(np.percentile(np.array(s), 99)) * 1e3, "best_ms": min(s) * 1e3,
            "gflop": flops / 1e9, "gflops": flops / med / 1e9,
            "best_gflops": flops / min(s) / 1e9}


def bench(kind, name, module, shape, args, tmp: Path) -> list[dict]:
    module.eval()
    torch.manual_seed(0)
    x = torch.randn(shape)
    flops = count_flops(module, x)
    onnx_path = tmp / (name.replace(" ", "_").replace("/", "_").replace(">", "") + ".onnx")
    if "onnxruntime" in args.peers:
        export_onnx(module, x, onnx_path)
    out = []
    for threads in args.threads:
        if "onnxruntime" in args.peers:
            out.append(record(kind, name, "onnxruntime", threads,
                              time_ort(onnx_path, x, threads, args), flops))
            print_row(out[-1])
        if "pytorch" in args.peers:
            s, variant = time_pytorch(module, x, threads, args)
            out.append(record(kind, name, "pytorch", threads, s, flops, variant))
            print_row(out[-1])
    return out


HEADER = (f"{'kind':6s} {'name':34s} {'peer':12s} {'thr':>3s} {'median ms':>10s} "
          f"{'p99 ms':>10s} {'best ms':>10s} {'GFLOP':>8s} {'GFLOP/s':>8s} {'best':>8s}  variant")


def print_row(r: dict) -> None:
    print(f"{r['kind']:6s} {r['name']:34s} {r['peer']:12s} {r['threads']:3d} "
          f"{r['median_ms']:10.3f} {r['p99_ms']:10.3f} {r['best_ms']:10.3f} {r['gflop']:8.4f} "
          f"{r['gflops']:8.1f} {r['best_gflops']:8.1f}  {r['variant']}", flush=True)


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import onnxruntime as ort
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "onnxruntime": ort.__version__,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "loadavg_start": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=["resnet50", "mobilenet_v2"],
                    help="torchvision names, inception_v4 / mobilenetv1_100 or timm:NAME")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--peers", nargs="+", default=["onnxruntime", "pytorch"],
                    choices=["onnxruntime", "pytorch"])
    ap.add_argument("--runs", type=int, default=30, help="timed calls per measurement (min)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=1.0,
                    help="keep sampling fast layers until this much time has passed")
    ap.add_argument("--no-models", action="store_true")
    ap.add_argument("--no-layers", action="store_true")
    ap.add_argument("--layers", nargs="*", help="only layers whose name contains one of these")
    ap.add_argument("--json", type=Path, help="also write all records here")
    args = ap.parse_args()

    info = machine()
    print(f"# {info['cpu']} ({info['cores']} cores), torch {info['torch']} "
          f"[{info['torch_cpu_capability']}], onnxruntime {info['onnxruntime']}, "
          f"load {info['loadavg_start'][0]:.2f}")
    print(HEADER)
    results = []
    with tempfile.TemporaryDirectory(prefix="lineage-peers-") as tmp:
        if not args.no_models:
            for name in args.models:
                model, shape = build_model(name)
                results += bench("model", name, model, shape, args, Path(tmp))
        if not args.no_layers:
            for layer in LAYERS:
                if args.layers and not any(s in layer.name for s in args.layers):
                    continue
                results += bench("layer", layer.name, layer.module(), layer.input_shape(), args,
                                 Path(tmp))
    info["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "args": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "layers": [asdict(layer) for layer in LAYERS], "results": results}, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
