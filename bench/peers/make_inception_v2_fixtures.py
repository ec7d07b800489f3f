#!/usr/bin/env python3
"""Write the Inception v2 (BN-Inception) parity fixtures: pytorchcv's `bninception` blocks and
the whole network, for nets/tests/inception_v2.rs.

    /work/venv/bin/python bench/peers/make_inception_v2_fixtures.py   # -> nets/tests/fixtures

Blocks (`inception_v2_{stem,inception_avg,inception_max,reduction}.safetensors`): the file
format, random weights and perturbed batch-norm statistics of make_fixtures.py, on pytorchcv's
own block classes built at small widths (they take their widths as arguments).

Whole network (`inception_v2_formula_224x224.safetensors`): `get_model('bninception',
num_classes=10)` with the weights formula of make_checkpoint_fixture.py (so the 45 MB of
weights are not committed), run at its design size 224x224 on the formula's input. Tensors:
`logits` [1, 10] and `features` [1, 1024] (the same model with `output` replaced by Identity:
what `--classes 0` returns). Its metadata `config` also records, for the 1000-class model at
224x224, `params` (sum of numel of its parameters) and `macs` (conv and linear
multiply-accumulates counted with forward hooks, time_peers.count_flops / 2), and
`state_dict`: [name, shape] of every tensor of its state dict but `num_batches_tracked`.

With `--parity-dir DIR` (outside the repository), also `DIR/inception_v2.safetensors` for the
opt-in whole-network test (LINEAGE_PARITY_DIR): the 1000-class model with pytorchcv's init and
make_fixtures.py's random BN parameters and measured-then-perturbed statistics, its state
dict, `input` [1, 3, 224, 224] and `logits`, in make_fixtures.py's whole-network format.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_checkpoint_fixture as formula  # noqa: E402
import make_fixtures as mf  # noqa: E402
import time_peers as tp  # noqa: E402

SIZE, CLASSES = 224, 10
BLOCK = "pytorchcv.models.bninception"


def pytorchcv_version() -> str:
    from importlib.metadata import version
    return version("pytorchcv")


def bninception(**kwargs) -> nn.Module:
    from pytorchcv.model_provider import get_model
    return get_model("bninception", pretrained=False, **kwargs)


def block_fixtures() -> list[mf.Fixture]:
    from pytorchcv.models import bninception as m
    from pytorchcv.models.common.norm import lambda_batchnorm2d
    norm = lambda_batchnorm2d()
    notes = ("ConvBlock: conv WITH bias + BN(eps 1e-5) + ReLU; pools 3x3 ceil mode; the pool "
             "branch averages counting the padding (avg_pool=True) or takes the max")
    fx = [mf.Fixture(
        "inception_v2_stem",
        lambda: m.StemBlock(3, 24, 16, bias=True, normalization=norm),
        f"{BLOCK}.StemBlock",
        {"in_channels": 3, "out_channels": 24, "mid_channels": 16, "bias": True},
        (3, 32, 32), issue=21,
        notes="7x7/2 pad 3, max-pool 3/2 ceil, 1x1, 3x3 pad 1, max-pool 3/2 ceil: 32 -> 4")]
    widths = {"mid1_channels_list": [8, 12], "mid2_channels_list": [8, 12, 16, 4]}
    for pool in ("avg", "max"):
        fx.append(mf.Fixture(
            f"inception_v2_inception_{pool}",
            lambda pool=pool: m.InceptionBlock(24, **widths, avg_pool=pool == "avg", bias=True,
                                               normalization=norm),
            f"{BLOCK}.InceptionBlock",
            {"in_channels": 24, **widths, "avg_pool": pool == "avg", "bias": True},
            (24, 9, 9), relu_input=True, issue=21, notes=notes))
    reduction = {"mid1_channels_list": [8, 12], "mid2_channels_list": [0, 16, 12, 0]}
    fx.append(mf.Fixture(
        "inception_v2_reduction",
        lambda: m.ReductionBlock(24, **reduction, bias=True, normalization=norm),
        f"{BLOCK}.ReductionBlock",
        {"in_channels": 24, **reduction, "bias": True},
        (24, 10, 10), relu_input=True, issue=21,
        notes="3x3 stride 2 pad 1 convs beside MaxPool2d(3, 2, ceil_mode=True): 10 -> 5"))
    return fx


def macs(model: nn.Module, size: int) -> int:
    return int(tp.count_flops(model, torch.zeros(1, 3, size, size)) // 2)


def write_whole_net() -> None:
    reference = bninception().eval()
    params = sum(p.numel() for p in reference.parameters())
    reference_macs = macs(reference, SIZE)
    state = [[k, list(t.shape)] for k, t in reference.state_dict().items()
             if not k.endswith("num_batches_tracked")]
    model = formula.formula_model(bninception(num_classes=CLASSES))
    x = formula.formula_input(SIZE, SIZE)
    logits = model(x).contiguous()
    model.output = nn.Identity()
    features = model(x).contiguous()
    for name, t in (("logits", logits), ("features", features)):
        if not torch.isfinite(t).all() or t.std() < 1e-3:
            raise SystemExit(f"{name} degenerate: std {t.std():.3g}")
    name = f"inception_v2_formula_{SIZE}x{SIZE}"
    config = {"module": "pytorchcv.model_provider.get_model('bninception')",
              "args": {"num_classes": CLASSES, "pretrained": False},
              "weights": "formula of bench/peers/make_checkpoint_fixture.py",
              "input_shape": list(x.shape), "output_shape": list(logits.shape),
              "bn_eps": mf.bn_eps(model),
              "params": params, "macs": reference_macs,
              "counts_of": f"the 1000-class model at {SIZE}x{SIZE}", "state_dict": state}
    meta = {"block": name, "config": json.dumps(config), "torch": torch.__version__,
            "pytorchcv": pytorchcv_version()}
    path = mf.DEFAULT_OUT / f"{name}.safetensors"
    save_file({"logits": logits, "features": features}, str(path), metadata=meta)
    print(f"{path.name}: logits std {logits.std():.4g}, features max|.| "
          f"{features.abs().max():.4g}; 1000 classes: {params} params, {reference_macs} MACs  "
          f"{path.stat().st_size / 1024:.1f} KiB")


def write_parity_net(out_dir: Path, seed: int) -> None:
    if out_dir.resolve().is_relative_to(mf.REPO):
        raise SystemExit("--parity-dir must be outside the repository (the file is 45 MB)")
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = bninception()
    mf.randomize(model, gen, bias_scale=0.02)
    mf.calibrate_bn(model, lambda: torch.randn((4, 3, SIZE, SIZE), generator=gen), batches=2,
                    gen=gen, shift=0.2, scale_range=(0.7, 1.4))
    model.eval()
    x = torch.randn((1, 3, SIZE, SIZE), generator=gen)
    x2 = torch.randn((1, 3, SIZE, SIZE), generator=gen)
    logits = model(x).contiguous()
    mf.check_varies("inception_v2", logits, model(x2))
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    tensors["input"], tensors["logits"] = x.contiguous(), logits
    config = {"module": "pytorchcv.model_provider.get_model('bninception')",
              "args": {"pretrained": False}, "input_shape": list(x.shape),
              "output_shape": list(logits.shape), "bn_eps": mf.bn_eps(model)}
    meta = {"block": "inception_v2", "config": json.dumps(config), "torch": torch.__version__,
            "pytorchcv": pytorchcv_version()}
    path = out_dir / "inception_v2.safetensors"
    save_file(tensors, str(path), metadata=meta)
    print(f"{path}: logits std {logits.std():.4g}  {path.stat().st_size / 2**20:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parity-dir", type=Path,
                    help="also write the whole network here (outside the repository)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    seed = 20261207
    for f in block_fixtures():
        mf.write_block(f, mf.DEFAULT_OUT, seed + zlib.crc32(f.name.encode()))
        mf.verify_block(f, mf.DEFAULT_OUT)
    write_whole_net()
    if args.parity_dir:
        write_parity_net(args.parity_dir, seed + zlib.crc32(b"inception_v2"))


if __name__ == "__main__":
    main()
