#!/usr/bin/env python3
"""Recompute the single-op fixtures in plain numpy (float64), without torch.

This checks that the files mean what make_fixtures.py's docstring and notes say (the formulas
the Rust side will implement: padding, ceil mode, count_include_pad, LRN window, adaptive-pool
bins), independently of PyTorch's code.

    /work/venv/bin/python bench/peers/check_op_fixtures.py [DIR]
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open

DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    Path(__file__).resolve().parents[2] / "nets" / "tests" / "fixtures"


def load(name):
    with safe_open(str(DIR / f"{name}.safetensors"), "np") as f:
        t = {k: f.get_tensor(k).astype(np.float64) for k in f.keys()}
        return t, json.loads(f.metadata()["config"])


def conv2d(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return y + b[None, :, None, None]


def pool_out(size, k, s, p, ceil):
    num = size + 2 * p - k
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:   # last window must start inside the input or left pad
        out -= 1
    return out


def pool2d(x, k, s, p, ceil, op, include_pad=True):
    n, c, h, w = x.shape
    ho, wo = pool_out(h, k, s, p, ceil), pool_out(w, k, s, p, ceil)
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            h0, w0 = i * s - p, j * s - p
            h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)     # window clipped to padded input
            area_padded = (h1 - h0) * (w1 - w0)
            hs, ws = max(h0, 0), max(w0, 0)
            he, we = min(h1, h), min(w1, w)
            win = x[:, :, hs:he, ws:we]
            if op == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                area = area_padded if include_pad else (he - hs) * (we - ws)
                y[:, :, i, j] = win.sum(axis=(2, 3)) / area
    return y


def lrn(x, size, alpha, beta, k):
    c = x.shape[1]
    sq = x * x
    y = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        y[:, ch] = x[:, ch] / (k + alpha / size * sq[:, lo:hi].sum(axis=1)) ** beta
    return y


def adaptive_avg(x, oh, ow):
    n, c, h, w = x.shape
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        hs, he = (i * h) // oh, math.ceil((i + 1) * h / oh)
        for j in range(ow):
            ws, we = (j * w) // ow, math.ceil((j + 1) * w / ow)
            y[:, :, i, j] = x[:, :, hs:he, ws:we].mean(axis=(2, 3))
    return y


def compute(name, t, cfg):
    a, x = cfg["args"], t["input"]
    if name.startswith("conv"):
        return conv2d(x, t["weight"], t["bias"], a["stride"], a["padding"])
    if name.startswith("maxpool"):
        return pool2d(x, a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"], "max")
    if name.startswith("avgpool"):
        return pool2d(x, a["kernel_size"], a["stride"], a["padding"], False, "avg",
                      a["count_include_pad"])
    if name.startswith("lrn"):
        return lrn(x, a["size"], a["alpha"], a["beta"], a["k"])
    if name.startswith("adaptive_avgpool"):
        return adaptive_avg(x, *a["output_size"])
    raise KeyError(name)


def main():
    names = sorted(p.stem for p in DIR.glob("*.safetensors")
                   if p.stem.split("_")[0] in ("conv3x3", "conv", "maxpool", "avgpool", "lrn",
                                               "adaptive"))
    bad = 0
    for name in names:
        t, cfg = load(name)
        want = t["output"]
        got = compute(name, t, cfg)
        err = np.abs(got - want).max() / max(1.0, np.abs(want).max()) if got.shape == want.shape \
            else math.inf
        ok = err < 1e-5
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {name:40s} rel err {err:.2e}")
    if bad or not names:
        sys.exit(f"{bad} of {len(names)} op fixtures disagree with numpy")


if __name__ == "__main__":
    main()
