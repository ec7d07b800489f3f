#!/usr/bin/env python3
"""Write PyTorch parity fixtures (safetensors) for the lineage Rust crates.

Run inside the venv made by bench/peers/setup_venv.sh:

    /work/venv/bin/python bench/peers/make_fixtures.py           # -> nets/tests/fixtures
    /work/venv/bin/python bench/peers/make_fixtures.py --only lrn_5
    /work/venv/bin/python bench/peers/make_fixtures.py --parity-dir /work/parity --nets resnet50
    /work/venv/bin/python bench/peers/make_fixtures.py --list

File format (the Rust side codes against exactly this)
-------------------------------------------------------
One safetensors file per fixture, `<name>.safetensors`.

Tensors:
  * the module's own state_dict, under the module's OWN torchvision/timm names, unchanged:
    e.g. a torchvision Bottleneck block holds `conv1.weight`, `bn1.weight`, `bn1.bias`,
    `bn1.running_mean`, `bn1.running_var`, `bn1.num_batches_tracked`, ..., `downsample.0.weight`,
    `downsample.1.*`; a bare nn.Conv2d holds `weight` and `bias`; a whole network holds its full
    state_dict (`conv1.weight`, `layer1.0.conv1.weight`, ..., `fc.weight`, `fc.bias`).
    Dtypes: float32 for every tensor except `*.num_batches_tracked`, which is int64 (a scalar,
    shape []); it does not affect eval-mode output and can be ignored.
    Conv weights are OIHW, Linear weights are [out, in] (PyTorch layouts, unchanged).
  * `input`: float32 NCHW. Block and op fixtures use batch 2 (so batch indexing is checked);
    whole networks use [1, 3, 224, 224] ([1, 3, 299, 299] for inception_v3 / inception_v4).
  * block/op fixtures: `output`, float32 NCHW, the module's eval-mode output on `input`.
    whole networks: `logits`, float32 [1, 1000], the eval-mode output on `input`.
  No tensor name of a module collides with `input`/`output`/`logits`.

`__metadata__` (all values are strings, as safetensors requires):
  * `block`:  the fixture name (e.g. "resnet_bottleneck_downsample"; for networks the net name).
  * `config`: a JSON object with
      - `module`: the Python class that produced the output
        (e.g. "torchvision.models.resnet.Bottleneck"),
      - `args`: the constructor arguments (JSON; nested modules such as a Bottleneck's
        `downsample` are described in words, their tensors are in the file),
      - `input_shape`, `output_shape`: lists,
      - `bn_eps`: the distinct batch-norm epsilons of the module (eps is not in the state_dict;
        torchvision uses 1e-5 except BasicConv2d of GoogLeNet / Inception v3, which use 1e-3),
      - `channel_divisor` (only for Inception v3 / v4 blocks, whose channel counts are hard-coded
        in torchvision/timm): every Conv2d/BatchNorm2d channel count of the module built with
        `args` was divided by this number (weights shapes in the file are the truth),
      - `notes`: free text where the module does something surprising.
  * `torch`, `torchvision`, `timm`: versions that produced the file.

Weights are random (seeded, so reruns give the same files for the same library versions).
Batch-norm layers get random gamma/beta, then running statistics measured on random batches in
train mode (momentum=None, i.e. the true average), then PERTURBED (mean shifted, variance scaled)
so that a kernel ignoring running_mean or running_var, or swapping them, fails the comparison.
Conv/Linear biases are random and nonzero for the same reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torchvision
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "nets" / "tests" / "fixtures"
BATCH = 2
SIZE_LIMIT = 512 * 1024  # bytes per committed fixture; the brief asks for "well under 1 MB"


# --------------------------------------------------------------------------------------------
# Making weights and statistics non-degenerate
# --------------------------------------------------------------------------------------------

BN_TYPES = (nn.BatchNorm2d, nn.BatchNorm1d)


def randomize(module: nn.Module, gen: torch.Generator, bias_scale: float = 0.1) -> None:
    """Random BN gamma/beta and nonzero conv/linear biases; conv weights keep their init."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, BN_TYPES):
                if m.weight is not None:
                    m.weight.copy_(torch.empty_like(m.weight).uniform_(0.5, 1.5, generator=gen))
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bias_scale)


def calibrate_bn(module: nn.Module, make_batch: Callable[[], torch.Tensor], batches: int,
                 gen: torch.Generator, shift: float, scale_range: tuple[float, float]) -> None:
    """Measure BN running stats in train mode (momentum=None: exact average), then perturb them.

    Only BN layers are put in train mode, so dropout etc. stay deterministic. The perturbation
    (mean += shift * N(0,1) * std, var *= U(scale_range)) keeps activations in a sane range while
    making mean != 0 and var != 1 in a way a kernel cannot get right by accident.
    """
    bns = [m for m in module.modules() if isinstance(m, BN_TYPES)]
    if not bns:
        return
    module.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for _ in range(batches):
            module(make_batch())
    module.eval()
    lo, hi = scale_range
    with torch.no_grad():
        for bn in bns:
            bn.momentum = 0.1
            std = bn.running_var.sqrt()
            bn.running_mean.add_(torch.randn(bn.running_mean.shape, generator=gen) * std * shift)
            bn.running_var.mul_(torch.empty_like(bn.running_var).uniform_(lo, hi, generator=gen))


def unit_variance_init(module: nn.Module, make_batch: Callable[[], torch.Tensor]) -> None:
    """Scale each Conv2d/Linear (in forward order) so its output has std 1 on random input.

    For nets without batch norm (AlexNet, VGG): with the library init the signal shrinks layer
    by layer and the logits end up dominated by the last bias, barely depending on the input.
    """
    layers = []
    module.apply(lambda m: layers.append(m) if isinstance(m, (nn.Conv2d, nn.Linear)) else None)
    x = make_batch()
    module.eval()   # no dropout while measuring
    with torch.no_grad():
        for layer in layers:
            stds = []
            handle = layer.register_forward_hook(lambda m, i, o: stds.append(o.std().item()))
            module(x)
            handle.remove()
            layer.weight.div_(stds[0])
            if layer.bias is not None:
                layer.bias.div_(stds[0])


def shrink_channels(module: nn.Module, divisor: int) -> None:
    """Divide every Conv2d/BatchNorm2d channel count by `divisor`, keeping names and classes.

    Used for Inception v3/v4 blocks, whose channel counts are hard-coded (the real ones give
    multi-MB fixtures). Layers are cut in place (tensors sliced, sizes updated), so subclasses
    such as timm's BatchNormAct2d keep their activation and the forward code is the library's.
    """
    def cut(n: int, what: str) -> int:
        if n % divisor:
            raise ValueError(f"{what}: {n} channels not divisible by {divisor}")
        return n // divisor

    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, nn.Conv2d):
                if m.groups != 1:
                    raise ValueError(f"{name}: grouped conv cannot be shrunk")
                m.in_channels, m.out_channels = cut(m.in_channels, name), cut(m.out_channels, name)
                m.weight = nn.Parameter(m.weight[:m.out_channels, :m.in_channels].clone())
                if m.bias is not None:
                    m.bias = nn.Parameter(m.bias[:m.out_channels].clone())
            elif isinstance(m, nn.BatchNorm2d):
                m.num_features = cut(m.num_features, name)
                n = m.num_features
                m.weight = nn.Parameter(m.weight[:n].clone())
                m.bias = nn.Parameter(m.bias[:n].clone())
                m.running_mean = m.running_mean[:n].clone()
                m.running_var = m.running_var[:n].clone()


def bn_eps(module: nn.Module) -> list[float]:
    """The distinct batch-norm epsilons (not in the state_dict, so they go in the config)."""
    return sorted({m.eps for m in module.modules() if isinstance(m, BN_TYPES)})


# --------------------------------------------------------------------------------------------
# Fixture specs
# --------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    name: str
    build: Callable[[], nn.Module]
    module: str            # class path, for the metadata
    args: dict             # constructor arguments, for the metadata
    input_chw: tuple       # (C, H, W); batch is BATCH
    input_scale: float = 1.0
    relu_input: bool = False   # blocks that normally follow a ReLU
    channel_divisor: int | None = None
    notes: str = ""
    issue: int = 5
    extra: dict = field(default_factory=dict)


def tv(path: str):
    """Resolve 'models.resnet.Bottleneck' inside torchvision."""
    obj = torchvision
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def bn_downsample(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


def fixtures() -> list[Fixture]:
    # import_module: `torchvision.models.googlenet` the attribute is the builder function
    densenet, googlenet, inception, mobilenetv2, resnet = (
        importlib.import_module(f"torchvision.models.{m}")
        for m in ("densenet", "googlenet", "inception", "mobilenetv2", "resnet"))

    fx: list[Fixture] = []

    # ---- issue 5: ResNet / MobileNet v2 blocks -------------------------------------------
    fx.append(Fixture(
        "resnet_bottleneck_downsample",
        lambda: resnet.Bottleneck(16, 8, stride=2, downsample=bn_downsample(16, 32, 2)),
        "torchvision.models.resnet.Bottleneck",
        {"inplanes": 16, "planes": 8, "stride": 2, "groups": 1, "base_width": 64, "dilation": 1,
         "downsample": "Sequential(Conv2d(16, 32, 1, stride=2, bias=False), BatchNorm2d(32))"},
        (16, 12, 12), relu_input=True,
        notes="torchvision v1.5: the stride is on conv2 (3x3); residual added before the last "
              "ReLU"))
    fx.append(Fixture(
        "resnet_basicblock",
        lambda: resnet.BasicBlock(16, 16, stride=1),
        "torchvision.models.resnet.BasicBlock",
        {"inplanes": 16, "planes": 16, "stride": 1, "downsample": None},
        (16, 10, 10), relu_input=True))
    fx.append(Fixture(
        "mobilenet_v2_inverted_residual_s1",
        lambda: mobilenetv2.InvertedResidual(16, 16, stride=1, expand_ratio=6),
        "torchvision.models.mobilenetv2.InvertedResidual",
        {"inp": 16, "oup": 16, "stride": 1, "expand_ratio": 6},
        (16, 10, 10),
        notes="hidden 96 channels, ReLU6, residual (no activation after the projection)"))
    fx.append(Fixture(
        "mobilenet_v2_inverted_residual_s2",
        lambda: mobilenetv2.InvertedResidual(16, 24, stride=2, expand_ratio=6),
        "torchvision.models.mobilenetv2.InvertedResidual",
        {"inp": 16, "oup": 24, "stride": 2, "expand_ratio": 6},
        (16, 12, 12), notes="hidden 96 channels, depthwise 3x3 stride 2 pad 1, no residual"))

    # ---- issue 5: single ops ----------------------------------------------------------------
    fx.append(Fixture(
        "conv3x3_pad1", lambda: nn.Conv2d(8, 16, 3, padding=1),
        "torch.nn.Conv2d", {"in_channels": 8, "out_channels": 16, "kernel_size": 3,
                            "stride": 1, "padding": 1, "bias": True},
        (8, 9, 11)))
    fx.append(Fixture(
        "conv_11x11_s4_pad2", lambda: nn.Conv2d(3, 8, 11, stride=4, padding=2),
        "torch.nn.Conv2d", {"in_channels": 3, "out_channels": 8, "kernel_size": 11,
                            "stride": 4, "padding": 2, "bias": True},
        (3, 37, 37), notes="(37+4-11)/4 = 7.5: floor, the last 2 padded columns are unused"))
    fx.append(Fixture(
        "maxpool_3x3_s2_ceil", lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True),
        "torch.nn.MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 0, "ceil_mode": True},
        (8, 14, 11),
        notes="H: ceil((14-3)/2)+1 = 7 (last window partial), W: (11-3)/2+1 = 5 (exact)"))
    fx.append(Fixture(
        "avgpool_3x3_s1_pad1_exclude_pad",
        lambda: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        "torch.nn.AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1,
                               "count_include_pad": False},
        (8, 9, 7), notes="timm inception_v4 pooling branches"))
    fx.append(Fixture(
        "avgpool_3x3_s1_pad1_include_pad",
        lambda: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True),
        "torch.nn.AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1,
                               "count_include_pad": True},
        (8, 9, 7), notes="torchvision inception_v3 pooling branches (F.avg_pool2d(x, 3, 1, 1))"))
    fx.append(Fixture(
        "lrn_5", lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
        "torch.nn.LocalResponseNorm", {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0},
        (16, 6, 6), input_scale=100.0, relu_input=True,
        notes="b = a / (k + alpha/size * sum_{window} a^2)^beta, window clipped at channel edges; "
              "input ~ 100*relu(N(0,1)) so the window term is comparable to k"))
    fx.append(Fixture(
        "lrn_5_alpha1", lambda: nn.LocalResponseNorm(5, alpha=1.0, beta=0.75, k=1.0),
        "torch.nn.LocalResponseNorm", {"size": 5, "alpha": 1.0, "beta": 0.75, "k": 1.0},
        (16, 6, 6), notes="window term dominates: catches a wrong window or divisor"))
    for name, hw, note in [
        ("adaptive_avgpool_6x6", (13, 13), "AlexNet: 13 -> 6, bins overlap (starts floor(i*13/6), "
                                            "ends ceil((i+1)*13/6))"),
        ("adaptive_avgpool_6x6_from_12x12", (12, 12), "dividing case: plain 2x2 average"),
        ("adaptive_avgpool_6x6_from_11x8", (11, 8), "non-square, neither side divides"),
        ("adaptive_avgpool_6x6_from_4x5", (4, 5), "upsampling case: input smaller than output"),
    ]:
        fx.append(Fixture(name, lambda: nn.AdaptiveAvgPool2d((6, 6)), "torch.nn.AdaptiveAvgPool2d",
                          {"output_size": [6, 6]}, (8, *hw), notes=note))

    # ---- issue 6: GoogLeNet, Inception v3/v4, ResNeXt, DenseNet, MobileNet v1, AlexNet -----
    fx.append(Fixture(
        "googlenet_inception3a",
        lambda: googlenet.Inception(24, 8, 12, 16, 2, 4, 4),
        "torchvision.models.googlenet.Inception",
        {"in_channels": 24, "ch1x1": 8, "ch3x3red": 12, "ch3x3": 16, "ch5x5red": 2, "ch5x5": 4,
         "pool_proj": 4},
        (24, 8, 8), relu_input=True, issue=6,
        notes="inception3a / 8. torchvision's '5x5' branch is really a 3x3 conv (padding 1); "
              "pool branch MaxPool2d(3, 1, 1, ceil_mode=True). BasicConv2d: conv(no bias) + "
              "BN + ReLU"))
    v3 = [  # name, class, args, input (C, H, W) at the real size
        ("inception_v3_InceptionA", "InceptionA", {"in_channels": 192, "pool_features": 32},
         (192, 7, 7)),
        ("inception_v3_InceptionB", "InceptionB", {"in_channels": 288}, (288, 9, 9)),
        ("inception_v3_InceptionC", "InceptionC", {"in_channels": 768, "channels_7x7": 128},
         (768, 7, 7)),
        ("inception_v3_InceptionD", "InceptionD", {"in_channels": 768}, (768, 9, 9)),
        ("inception_v3_InceptionE", "InceptionE", {"in_channels": 1280}, (1280, 5, 5)),
    ]
    for name, cls, args, (c, h, w) in v3:
        fx.append(Fixture(
            name, lambda cls=cls, args=args: _shrunk(getattr(inception, cls)(**args), 16),
            f"torchvision.models.inception.{cls}", args, (c // 16, h, w), relu_input=True,
            channel_divisor=16, issue=6,
            notes="pool branches use F.avg_pool2d(x, 3, 1, 1) (count_include_pad=True); "
                  "BasicConv2d: conv(no bias) + BN + ReLU"))
    fx.append(Fixture(
        "resnext_bottleneck_g32",
        lambda: resnet.Bottleneck(64, 32, stride=2, downsample=bn_downsample(64, 128, 2),
                                  groups=32, base_width=4),
        "torchvision.models.resnet.Bottleneck",
        {"inplanes": 64, "planes": 32, "stride": 2, "groups": 32, "base_width": 4,
         "downsample": "Sequential(Conv2d(64, 128, 1, stride=2, bias=False), BatchNorm2d(128))"},
        (64, 8, 8), relu_input=True, issue=6,
        notes="width = int(32 * 4/64) * 32 = 64 = 32 groups x 2 channels; grouped 3x3 stride 2"))
    fx.append(Fixture(
        "densenet_dense_block",
        lambda: densenet._DenseBlock(3, 16, bn_size=4, growth_rate=8, drop_rate=0.0),
        "torchvision.models.densenet._DenseBlock",
        {"num_layers": 3, "num_input_features": 16, "bn_size": 4, "growth_rate": 8,
         "drop_rate": 0.0, "memory_efficient": False},
        (16, 8, 8), issue=6,
        notes="pre-activation layers: BN-ReLU-conv1x1(32)-BN-ReLU-conv3x3(8); output concatenates "
              "the input and each layer's 8 new channels: 16+3*8 = 40"))
    fx.append(Fixture(
        "densenet_transition",
        lambda: densenet._Transition(40, 20),
        "torchvision.models.densenet._Transition",
        {"num_input_features": 40, "num_output_features": 20},
        (40, 8, 8), issue=6, notes="BN-ReLU-conv1x1-AvgPool2d(2, 2)"))
    fx.append(Fixture(
        "alexnet_lrn_stage",
        lambda: nn.Sequential(nn.Conv2d(3, 8, 11, stride=4, padding=2), nn.ReLU(inplace=True),
                              nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
                              nn.MaxPool2d(3, stride=2)),
        "torch.nn.Sequential",
        {"layers": ["Conv2d(3, 8, 11, stride=4, padding=2)", "ReLU", "LocalResponseNorm(5, "
                    "alpha=1e-4, beta=0.75, k=2.0)", "MaxPool2d(3, stride=2)"]},
        (3, 63, 63), input_scale=60.0, issue=6,
        notes="original AlexNet conv1 stage (torchvision's AlexNet has no LRN); input scaled like "
              "mean-subtracted 0..255 pixels so LRN is not a no-op"))
    fx.append(Fixture(
        "alexnet_grouped_features", lambda: alexnet_grouped_features(8),
        "torch.nn.Sequential",
        {"features": "AlexNet 2012 features.0-14 with every width / 8 (12-32-48-48-32): "
                     "Conv2d(3, 12, 11, 4, 2), ReLU, LRN, MaxPool(3, 2), "
                     "Conv2d(12, 32, 5, 1, 2, groups=2), ReLU, LRN, MaxPool, "
                     "Conv2d(32, 48, 3, 1, 1), ReLU, Conv2d(48, 48, 3, 1, 1, groups=2), ReLU, "
                     "Conv2d(48, 32, 3, 1, 1, groups=2), ReLU, MaxPool"},
        (3, 99, 99), input_scale=60.0, issue=21, channel_divisor=8,
        notes="alexnet_grouped's feature extractor (nets: alexnet::paper_features(widths / 8, "
              "groups 2)); state_dict names features.N as in the model. conv4/conv5 have 24 "
              "channels per group (more than a vector: the dense-per-group path)"))
    fx.extend(timm_fixtures())
    return fx


def alexnet_grouped_features(divisor: int, groups: int = 2) -> nn.Module:
    """The 2012 AlexNet's features with the two towers (groups=2 in conv2, conv4, conv5)."""
    return nn.Sequential(OrderedDict(features=paper_features(divisor, groups)))


class PaperAlexNet(nn.Module):
    """nets' alexnet_original (groups=1) and alexnet_grouped (groups=2), named as torchvision's
    AlexNet: features.N, avgpool, classifier.{1,4,6}."""

    def __init__(self, groups: int):
        super().__init__()
        self.features = paper_features(1, groups)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 36, 4096), nn.ReLU(), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def paper_features(divisor: int, groups: int) -> nn.Sequential:
    w = [c // divisor for c in (96, 256, 384, 384, 256)]

    def lrn():
        return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, w[0], 11, 4, 2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(w[0], w[1], 5, 1, 2, groups=groups), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(w[1], w[2], 3, 1, 1), nn.ReLU(),
        nn.Conv2d(w[2], w[3], 3, 1, 1, groups=groups), nn.ReLU(),
        nn.Conv2d(w[3], w[4], 3, 1, 1, groups=groups), nn.ReLU(), nn.MaxPool2d(3, 2))


def _shrunk(module: nn.Module, divisor: int) -> nn.Module:
    shrink_channels(module, divisor)
    return module


def timm_fixtures() -> list[Fixture]:
    try:
        import timm  # noqa: F401
    except ImportError:
        print("timm not installed: skipping timm fixtures", file=sys.stderr)
        return []
    fx = []
    # timm inception_v4 blocks, taken from a real model (so they carry the model's conv_block:
    # padding 0 unless given, BN eps 1e-3), channel counts / 16, small spatial sizes.
    for name, cls, index, c, hw in [
        ("inception_v4_Mixed_3a", "Mixed3a", 3, 64, (9, 9)),
        ("inception_v4_Mixed_4a", "Mixed4a", 4, 160, (9, 9)),
        ("inception_v4_Mixed_5a", "Mixed5a", 5, 192, (9, 9)),
        ("inception_v4_Inception_A", "InceptionA", 6, 384, (7, 7)),
        ("inception_v4_Reduction_A", "ReductionA", 10, 384, (9, 9)),
        ("inception_v4_Inception_B", "InceptionB", 11, 1024, (7, 7)),
        ("inception_v4_Reduction_B", "ReductionB", 18, 1024, (9, 9)),
        ("inception_v4_Inception_C", "InceptionC", 19, 1536, (5, 5)),
    ]:
        fx.append(Fixture(
            name, lambda cls=cls, index=index: _shrunk(_timm_v4_block(cls, index), 16),
            f"timm.models.inception_v4.{cls}",
            {"conv_block": "partial(ConvNormAct, padding=0, norm_layer='batchnorm2d', "
                           "act_layer='relu', norm_kwargs=dict(eps=1e-3)) as in InceptionV4",
             "taken_from": f"timm.create_model('inception_v4').features[{index}]"},
            (c // 16, *hw), relu_input=True, channel_divisor=16, issue=6,
            notes="ConvNormAct: conv(no bias) + BatchNormAct2d(BN + ReLU); padding 0 unless the "
                  "block gives one; pooling branches AvgPool2d(3, 1, 1, count_include_pad=False); "
                  "max pools 3x3 s2 floor"))
    dsc = _timm_mobilenetv1_block()
    if dsc is not None:
        cls, make, info = dsc
        for stride, cin, cout, hw in [(1, 16, 32, (10, 10)), (2, 32, 64, (12, 12))]:
            fx.append(Fixture(
                f"mobilenetv1_dw_separable_s{stride}",
                lambda make=make, cin=cin, cout=cout, stride=stride: make(cin, cout, stride),
                cls, {"in_chs": cin, "out_chs": cout, "dw_kernel_size": 3, "stride": stride,
                      **info}, (cin, *hw), relu_input=True, issue=6,
                notes="the block class timm's mobilenetv1_100 uses: depthwise 3x3 + BN + ReLU6, "
                      "pointwise 1x1 + BN + ReLU6 (BatchNormAct2d), no residual"))
    return fx


_TIMM_V4 = None


def _timm_v4_block(cls: str, index: int) -> nn.Module:
    global _TIMM_V4
    import copy
    import timm
    if _TIMM_V4 is None:
        _TIMM_V4 = timm.create_model("inception_v4", pretrained=False)
    block = _TIMM_V4.features[index]
    if type(block).__name__ != cls:
        raise SystemExit(f"inception_v4.features[{index}] is {type(block).__name__}, not {cls}")
    return copy.deepcopy(block)


def _timm_mobilenetv1_block():
    """The block class timm's mobilenetv1_100 uses, built at small width with the model's options.

    Options are read off a real block of the model (activation, no skip even when in == out and
    stride 1), and the small block must have exactly the real block's tensor names.
    """
    import timm
    model = timm.create_model("mobilenetv1_100", pretrained=False)
    real = model.blocks[3][1]   # 512 -> 512 stride 1: the model still has no skip there
    cls = type(real)
    act = type(real.bn1.act)

    def make(cin, cout, stride):
        return cls(cin, cout, dw_kernel_size=3, stride=stride, noskip=not real.has_skip,
                   pw_act=real.has_pw_act, act_layer=act)
    probe = make(512, 512, 1)   # same sizes as `real`: the printed structure must be identical
    if repr(probe) != repr(real) or list(probe.state_dict()) != list(real.state_dict()):
        raise SystemExit("small mobilenetv1 block does not match the model's block")
    return (f"{cls.__module__}.{cls.__name__}", make,
            {"act_layer": act.__name__, "noskip": not real.has_skip, "pw_act": real.has_pw_act})


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def versions() -> dict:
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    try:
        import timm
        out["timm"] = timm.__version__
    except ImportError:
        pass
    return out


def make_input(chw, scale, relu, gen, batch=BATCH) -> torch.Tensor:
    x = torch.randn((batch, *chw), generator=gen)
    if relu:
        x = torch.relu(x + 0.3)
    return (x * scale).contiguous()


def write_block(f: Fixture, out_dir: Path, seed: int) -> Path:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)   # module constructors use the global generator for their init
    module = f.build()
    randomize(module, gen)
    calibrate_bn(module, lambda: make_input(f.input_chw, f.input_scale, f.relu_input, gen, 8),
                 batches=4, gen=gen, shift=0.5, scale_range=(0.5, 2.0))
    module.eval()
    x = make_input(f.input_chw, f.input_scale, f.relu_input, gen)
    x2 = make_input(f.input_chw, f.input_scale, f.relu_input, gen)
    with torch.no_grad():
        y = module(x).contiguous()
        y2 = module(x2)
    check_varies(f.name, y, y2)

    tensors = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    for reserved in ("input", "output"):
        assert reserved not in tensors, f"{f.name}: module has a tensor named {reserved}"
    tensors["input"] = x
    tensors["output"] = y
    config = {"module": f.module, "args": f.args, "input_shape": list(x.shape),
              "output_shape": list(y.shape)}
    if bn_eps(module):
        config["bn_eps"] = bn_eps(module)
    if f.channel_divisor:
        config["channel_divisor"] = f.channel_divisor
    if f.notes:
        config["notes"] = f.notes
    meta = {"block": f.name, "config": json.dumps(config), **versions()}
    path = out_dir / f"{f.name}.safetensors"
    save_file(tensors, str(path), metadata=meta)
    size = path.stat().st_size
    if size > SIZE_LIMIT:
        raise SystemExit(f"{path} is {size} bytes, over the {SIZE_LIMIT} limit")
    print(f"{f.name:40s} in {tuple(x.shape)} -> out {tuple(y.shape)} "
          f"max|y| {y.abs().max():.4g} std {y.std():.4g}  {size / 1024:.1f} KiB")
    return path


def verify_block(f: Fixture, out_dir: Path) -> None:
    """Reload a written file into a freshly built module (strict names) and recompute `output`."""
    from safetensors.torch import load_file
    tensors = load_file(str(out_dir / f"{f.name}.safetensors"))
    x, y = tensors.pop("input"), tensors.pop("output")
    torch.manual_seed(12345)   # a different init, so stale weights would show
    module = f.build()
    module.load_state_dict(tensors, strict=True)
    module.eval()
    with torch.no_grad():
        got = module(x)
    err = (got - y).abs().max().item()
    if got.shape != y.shape or err > 1e-5 * max(1.0, y.abs().max().item()):
        raise SystemExit(f"{f.name}: reloaded module disagrees with the file (max err {err:.3g})")
    print(f"verified {f.name}: max|reloaded - output| = {err:.3g}")


def check_varies(name: str, y: torch.Tensor, y2: torch.Tensor) -> None:
    if not torch.isfinite(y).all():
        raise SystemExit(f"{name}: non-finite output")
    spread = (y - y2).abs().max().item()
    if y.std().item() < 1e-3 or spread < 1e-3 * max(1.0, y.abs().max().item()):
        raise SystemExit(f"{name}: output does not vary (std {y.std():.3g}, "
                         f"max|y(x)-y(x')| {spread:.3g})")


# --------------------------------------------------------------------------------------------
# Whole networks (written outside the repository)
# --------------------------------------------------------------------------------------------


def build_net(name: str) -> tuple[nn.Module, int, str]:
    """(model, input size, class path) with torchvision/timm's own init, random weights."""
    from torchvision import models as m
    if name == "googlenet":
        return (m.googlenet(weights=None, aux_logits=False, transform_input=False,
                            init_weights=True), 224, "torchvision.models.googlenet")
    if name == "inception_v3":
        return (m.inception_v3(weights=None, aux_logits=False, transform_input=False,
                               init_weights=True), 299, "torchvision.models.inception_v3")
    if name in ("alexnet_original", "alexnet_grouped"):
        groups = 2 if name == "alexnet_grouped" else 1
        return PaperAlexNet(groups), 224, f"make_fixtures.PaperAlexNet(groups={groups})"
    if name in ("inception_v4", "mobilenetv1_100"):
        import timm
        return (timm.create_model(name, pretrained=False), 299 if name == "inception_v4" else 224,
                f"timm.create_model('{name}')")
    return getattr(m, name)(weights=None), 224, f"torchvision.models.{name}"


NETS = ["resnet50", "mobilenet_v2", "alexnet", "vgg16", "googlenet", "inception_v3",
        "resnext50_32x4d", "densenet121", "inception_v4", "mobilenetv1_100"]


def write_net(name: str, out_dir: Path, seed: int) -> Path:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model, size, path_name = build_net(name)
    randomize(model, gen, bias_scale=0.02)
    if not any(isinstance(m, BN_TYPES) for m in model.modules()):
        unit_variance_init(model, lambda: torch.randn((2, 3, size, size), generator=gen))
    calibrate_bn(model, lambda: torch.randn((4, 3, size, size), generator=gen), batches=2,
                 gen=gen, shift=0.2, scale_range=(0.7, 1.4))
    model.eval()
    x = torch.randn((1, 3, size, size), generator=gen)
    x2 = torch.randn((1, 3, size, size), generator=gen)
    with torch.no_grad():
        logits = model(x).contiguous()
        logits2 = model(x2)
    check_varies(name, logits, logits2)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    assert "input" not in tensors and "logits" not in tensors
    tensors["input"] = x.contiguous()
    tensors["logits"] = logits
    config = {"module": path_name, "args": _net_args(name), "input_shape": list(x.shape),
              "output_shape": list(logits.shape), "bn_eps": bn_eps(model)}
    meta = {"block": name, "config": json.dumps(config), **versions()}
    path = out_dir / f"{name}.safetensors"
    save_file(tensors, str(path), metadata=meta)
    rel = (logits - logits2).abs().max().item() / logits.abs().max().item()
    print(f"{name:18s} logits max|.| {logits.abs().max():.4g} std {logits.std():.4g} "
          f"max|l(x)-l(x')|/max|l| {rel:.3g}  {path.stat().st_size / 2**20:.1f} MiB")
    return path


def verify_net(name: str, out_dir: Path) -> None:
    """Reload a written network into a freshly built model (strict names), recompute `logits`."""
    from safetensors.torch import load_file
    tensors = load_file(str(out_dir / f"{name}.safetensors"))
    x, logits = tensors.pop("input"), tensors.pop("logits")
    model, _, _ = build_net(name)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        got = model(x)
    err = (got - logits).abs().max().item()
    if got.shape != logits.shape or err > 1e-4 * max(1.0, logits.abs().max().item()):
        raise SystemExit(f"{name}: reloaded model disagrees with the file (max err {err:.3g})")
    print(f"verified {name}: max|reloaded - logits| = {err:.3g}")


def _net_args(name: str) -> dict:
    args = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        args.update(aux_logits=False, transform_input=False, init_weights=True)
    if name in ("alexnet_original", "alexnet_grouped"):
        args = {"groups": 2 if name == "alexnet_grouped" else 1}
    if name in ("inception_v4", "mobilenetv1_100"):
        args = {"pretrained": False}
    return args


# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="block fixture directory")
    ap.add_argument("--only", nargs="*", help="fixture names to write (default: all)")
    ap.add_argument("--issue", type=int, help="only fixtures of this issue (5, 6 or 21)")
    ap.add_argument("--no-blocks", action="store_true", help="skip the block fixtures")
    ap.add_argument("--parity-dir", type=Path,
                    help="write whole networks here (outside the repository); default: skip")
    ap.add_argument("--nets", nargs="*", default=NETS, help=f"networks (default: {NETS})")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--verify", action="store_true",
                    help="instead of writing: reload each fixture into a new module (strict "
                         "state_dict names) and check it reproduces `output` / `logits`")
    args = ap.parse_args()
    torch.set_grad_enabled(False)

    fx = fixtures()
    if args.list:
        for f in fx:
            print(f"issue {f.issue}  {f.name}")
        print("nets:", " ".join(NETS))
        return
    if not args.no_blocks:
        args.out.mkdir(parents=True, exist_ok=True)
        for f in fx:
            if args.only and f.name not in args.only:
                continue
            if args.issue and f.issue != args.issue:
                continue
            if not args.verify:
                write_block(f, args.out, args.seed + zlib.crc32(f.name.encode()))
            else:
                verify_block(f, args.out)
    if args.parity_dir:
        if args.parity_dir.resolve().is_relative_to(REPO):
            raise SystemExit("--parity-dir must be outside the repository (files are 10-550 MB)")
        args.parity_dir.mkdir(parents=True, exist_ok=True)
        for name in args.nets:
            if args.verify:
                verify_net(name, args.parity_dir)
                continue
            write_net(name, args.parity_dir, args.seed + zlib.crc32(name.encode()))


if __name__ == "__main__":
    main()
