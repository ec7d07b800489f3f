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
`fc` replaced by Identity: what `--classes 0` returns), and `kept.NAME` (NCHW) for each module
of KEPT: its output as a forward hook sees it (what `lineage run --features NAME` writes).

Input sizes: for one model of each family that runs at any size in PyTorch, the same formula
(10 classes, keys as saved, no prefix) at a size other than its default, in
`size_{model}_{h}x{w}.safetensors` holding `logits` (the input is the formula's, as above, of
shape [1, 3, h, w]). `transform_input_{model}_{h}x{w}.safetensors`: the same for GoogLeNet and
Inception v3 built with transform_input=True (what their pretrained weights use). Not here: VGG (the head is
AlexNet's, adaptive pooling included, at 130M values of weights) and ZFNet (pytorchcv's fixed
classifier input takes 224x224 only).
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
KEPT = ["maxpool", "layer2.1", "layer3"]
FIXTURES = OUT.parent

# (lineage model, constructor, input height, width): sizes PyTorch runs and the default is not.
SIZES = [
    ("alexnet", lambda: torchvision.models.alexnet(num_classes=CLASSES), 127, 127),
    ("densenet121", lambda: torchvision.models.densenet121(num_classes=CLASSES), 72, 96),
    ("googlenet", lambda: torchvision.models.googlenet(
        num_classes=CLASSES, aux_logits=False, transform_input=False, init_weights=False), 96, 96),
    ("inception_v3", lambda: torchvision.models.inception_v3(
        num_classes=CLASSES, aux_logits=False, transform_input=False, init_weights=False), 139, 139),
    ("inception_v4", lambda: _timm("inception_v4"), 139, 139),
    ("mobilenet_v1", lambda: _timm("mobilenetv1_100"), 128, 96),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=CLASSES), 96, 96),
    ("resnext50_32x4d", lambda: torchvision.models.resnext50_32x4d(num_classes=CLASSES), 64, 64),
]


# torchvision's pretrained GoogLeNet and Inception v3 weights switch transform_input on (the
# weights builders set it unless the caller does); `lineage run` does the same with --weights.
# The transform_input=False logits at these sizes are the size_* fixtures above.
TRANSFORMED = [
    ("googlenet", lambda: torchvision.models.googlenet(
        num_classes=CLASSES, aux_logits=False, transform_input=True, init_weights=False), 96, 96),
    ("inception_v3", lambda: torchvision.models.inception_v3(
        num_classes=CLASSES, aux_logits=False, transform_input=True, init_weights=False), 139, 139),
]


def _timm(name: str):
    import timm
    return timm.create_model(name, pretrained=False, num_classes=CLASSES)


def formula_model(model: torch.nn.Module) -> torch.nn.Module:
    state = {k: value(k, tuple(t.shape)) for k, t in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), missing
    return model.eval()


def formula_input(h: int, w: int) -> torch.Tensor:
    u = uniforms(fnv1a("input"), 3 * h * w)
    return torch.from_numpy((2 * u - 1).astype(np.float32).reshape(1, 3, h, w))


def write_sizes(sizes=SIZES, prefix: str = "size") -> None:
    for name, build, h, w in sizes:
        x = formula_input(h, w)
        logits = formula_model(build())(x).contiguous()
        if not torch.isfinite(logits).all() or logits.std() < 1e-3:
            raise SystemExit(f"{name} {h}x{w}: degenerate logits, std {logits.std():.3g}")
        path = FIXTURES / f"{prefix}_{name}_{h}x{w}.safetensors"
        meta = {"block": f"{prefix}_{name}_{h}x{w}", "torch": torch.__version__,
                "torchvision": torchvision.__version__,
                "config": json.dumps({"model": name, "num_classes": CLASSES,
                                      "weights": "formula of make_checkpoint_fixture.py",
                                      "input_shape": list(x.shape)})}
        save_file({"logits": logits}, str(path), metadata=meta)
        print(f"{path.name}: logits std {logits.std():.4g}  {path.stat().st_size / 1024:.1f} KiB")


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
    model = formula_model(torchvision.models.resnet18(weights=None, num_classes=CLASSES))
    x = formula_input(SIZE, SIZE)
    kept = {}
    for name in KEPT:
        model.get_submodule(name).register_forward_hook(
            lambda _m, _i, out, name=name: kept.setdefault(f"kept.{name}", out.clone().contiguous()))
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
    save_file({"input": x, "logits": logits, "features": features, **kept}, str(OUT), metadata=meta)
    print(f"{OUT.name}: logits {logits.flatten().tolist()}\n"
          f"  features max|.| {features.abs().max():.4g}  {OUT.stat().st_size / 1024:.1f} KiB")
    write_sizes()
    write_sizes(TRANSFORMED, "transform_input")


if __name__ == "__main__":
    main()
