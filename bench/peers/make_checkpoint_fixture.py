#!/usr/bin/env python3
"""Write the "user's own checkpoint" parity fixture: a torchvision ResNet-18 fine-tuned shape
(10 classes) saved from DataParallel (every key starts with `module.`).

    /work/venv/bin/python bench/peers/make_checkpoint_fixture.py   # -> nets/tests/fixtures

The 45 MB of weights are not committed: they are a formula both sides compute exactly, so the
file holds only what PyTorch computed with them (`input`, `logits`, `features`). The Rust test
(nets/tests/checkpoints.rs) rebuilds the same state dict, saves it with `module.` keys and
runs it through `lineage run --strip-prefix module.` (class count read from `fc.weight`).

The formula, per tensor of the state dict (name WITHOUT the `module.` prefix):
  seed = FNV-1a 64 of the name's bytes; u_1, u_2, ... = lineage's NormalRng(seed).next_uniform()
  (splitmix64, ((z >> 11) + 1) / 2^53, in (0, 1]); each value is, in f64 then rounded to f32:
    conv / linear weight (fan_in = product of shape[1:]):  (2u - 1) * sqrt(6 / fan_in)
    conv / linear bias, batch-norm beta:                   (2u - 1) * 0.1
    batch-norm gamma (1-D `.weight`):                        0.5 + u
    running_mean:                                          (2u - 1) * 0.2
    running_var:                                             0.5 + u
  `num_batches_tracked` is left out (inference ignores it).

Tensors of the file: `input` [1, 3, 64, 64] float32 NCHW (the same formula, seed of the name
"input", values 2u - 1), `logits` [1, 10] (eval mode), `features` [1, 512] (the same model with
`fc` replaced by Identity: what `--classes 0` returns).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "nets" / "tests" / "fixtures" / "checkpoint_resnet18_10_classes.safetensors"
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
CLASSES, SIZE = 10, 64


def fnv1a(name: str) -> int:
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniforms(seed: int, n: int) -> np.ndarray:
    """NormalRng(seed).next_uniform() n times (splitmix64), as float64."""
    with np.errstate(over="ignore"):
        k = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(seed) + k * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)) + np.uint64(1)).astype(np.float64) / float(1 << 53)


def value(name: str, shape: tuple[int, ...]) -> torch.Tensor:
    u = uniforms(fnv1a(name), int(np.prod(shape, dtype=np.int64)))
    if name.endswith("running_mean"):
        v = (2 * u - 1) * 0.2
    elif name.endswith("running_var"):
        v = 0.5 + u
    elif name.endswith(".weight") and len(shape) == 1:
        v = 0.5 + u
    elif name.endswith(".bias"):
        v = (2 * u - 1) * 0.1
    elif name.endswith(".weight"):
        fan_in = int(np.prod(shape[1:]))
        v = (2 * u - 1) * np.sqrt(6.0 / fan_in)
    else:
        raise SystemExit(f"{name}: no rule for this tensor")
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def main() -> None:
    torch.set_grad_enabled(False)
    model = torchvision.models.resnet18(weights=None, num_classes=CLASSES)
    state = {k: value(k, tuple(t.shape)) for k, t in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    model.load_state_dict(state, strict=False)
    model.eval()
    x = torch.from_numpy((2 * uniforms(fnv1a("input"), 3 * SIZE * SIZE) - 1)
                         .astype(np.float32).reshape(1, 3, SIZE, SIZE))
    logits = model(x).contiguous()
    model.fc = torch.nn.Identity()
    features = model(x).contiguous()
    for name, t in (("logits", logits), ("features", features)):
        if not torch.isfinite(t).all() or t.std() < 1e-3:
            raise SystemExit(f"{name} degenerate: std {t.std():.3g}")
    config = {"module": "torchvision.models.resnet18", "args": {"num_classes": CLASSES},
              "weights": "formula of bench/peers/make_checkpoint_fixture.py, keys module.*",
              "input_shape": list(x.shape), "output_shape": list(logits.shape)}
    meta = {"block": "checkpoint_resnet18_10_classes", "config": json.dumps(config),
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    save_file({"input": x, "logits": logits, "features": features}, str(OUT), metadata=meta)
    print(f"{OUT.name}: logits {logits.flatten().tolist()}\n"
          f"  features max|.| {features.abs().max():.4g}  {OUT.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
