#!/usr/bin/env python3
"""Write the accuracy fixture: PyTorch f32's own error against a float64 run of the same network,
for the default model of every family of the case study.

    /work/venv/bin/python bench/peers/make_accuracy_fixture.py   # -> nets/tests/fixtures

Weights and input are the formula of make_checkpoint_fixture.py (both sides compute it, so the
file holds no weights), except batch-norm running statistics: those are calibrated on the input
itself, in float64, as one batch of train mode with `momentum=None` measures them (mean and
unbiased variance, each layer seeing the layers before it already normalized), then rounded to
float32; nets/tests/common/mod.rs `calibrated_bn` does the same. Without calibration the formula's
statistics let activations grow (ResNet-50 logits of std 8e3) and the error measure is a few ulps
of the largest logit. Each model then runs twice in eval mode on the same input: in float32 and,
after `.double()`, in float64. The file holds, per model:

  `{model}.logits_f64`   [1, 1000] the float64 logits, rounded to float32 (the Rust test checks
                         its own f64 interpreter against them, so both sides agree on the net)
  `{model}.torch_error`  [1] max|logits_f32 - logits_f64| / max|logits_f64|

Input sizes are below the default where the family runs at any size (the Rust f64 interpreter
is naive loops); ZFNet (pytorchcv's fixed classifier input) and AlexNet stay at 224. PyTorch's
f32 error depends on its CPU kernels: the metadata names the torch version and thread count.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torchvision
from safetensors.torch import save_file

from make_checkpoint_fixture import formula_input, formula_model

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "nets" / "tests" / "fixtures" / "accuracy_vs_f64.safetensors"
TV = torchvision.models

# (lineage model, constructor, input size): the default model of each family.
MODELS = [
    ("alexnet_original", lambda: alexnet_original(), 224),
    ("zfnet", lambda: pytorchcv("zfnet"), 224),
    ("vgg16", lambda: TV.vgg16(), 112),
    ("googlenet", lambda: TV.googlenet(aux_logits=False, transform_input=False, init_weights=False), 160),
    ("resnet50", lambda: TV.resnet50(), 160),
    ("inception_v3", lambda: TV.inception_v3(aux_logits=False, transform_input=False,
                                             init_weights=False), 203),
    ("inception_v4", lambda: timm("inception_v4"), 203),
    ("resnext50_32x4d", lambda: TV.resnext50_32x4d(), 160),
    ("densenet121", lambda: TV.densenet121(), 160),
    ("mobilenet_v1", lambda: timm("mobilenetv1_100"), 160),
    ("mobilenet_v2", lambda: TV.mobilenet_v2(), 160),
]


def timm(name: str) -> torch.nn.Module:
    import timm as t
    return t.create_model(name, pretrained=False)


def pytorchcv(name: str) -> torch.nn.Module:
    from pytorchcv.model_provider import get_model
    return get_model(name, pretrained=False)


def alexnet_original() -> torch.nn.Module:
    """The paper's AlexNet (96-256-384-384-256, LRN) in torchvision's names, as lineage builds it."""
    nn = torch.nn
    model = TV.alexnet()
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    model.features = nn.Sequential(
        nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, 1, 2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(), nn.Conv2d(384, 384, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2))
    return model


def calibrate_bn(model: torch.nn.Module, x: torch.Tensor) -> None:
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    model.double()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    model(x.double())
    model.eval()
    for bn in bns:
        bn.running_mean.copy_(bn.running_mean.float().double())
        bn.running_var.copy_(bn.running_var.float().double())


def main() -> None:
    torch.set_grad_enabled(False)
    tensors, table = {}, {}
    for name, build, size in MODELS:
        model = formula_model(build())
        x = formula_input(size, size)
        calibrate_bn(model, x)
        f32 = model.float()(x).double()
        f64 = model.double()(x.double())
        if not torch.isfinite(f64).all() or f64.std() < 1e-3 * f64.abs().max():
            raise SystemExit(f"{name}: degenerate logits, std {f64.std():.3g}")
        err = ((f32 - f64).abs().max() / f64.abs().max()).item()
        tensors[f"{name}.logits_f64"] = f64.float().contiguous()
        tensors[f"{name}.torch_error"] = torch.tensor([err], dtype=torch.float32)
        table[name] = {"size": size, "torch_error": err}
        print(f"{name:18s} {size}x{size}  torch f32 vs f64: {err:.3e}  logits std {f64.std():.4g}")
    meta = {"block": "accuracy_vs_f64", "torch": torch.__version__,
            "torchvision": torchvision.__version__, "threads": str(torch.get_num_threads()),
            "config": json.dumps({"weights": "formula of make_checkpoint_fixture.py",
                                  "models": table})}
    save_file(tensors, str(OUT), metadata=meta)
    print(f"{OUT.name}: {OUT.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
