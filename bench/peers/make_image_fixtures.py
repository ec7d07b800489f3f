#!/usr/bin/env python3
"""Write the image-preprocessing fixtures of nets/tests/images.rs and nets/tests/preprocess.rs.

A 40x30 synthetic picture saved as PNG and as JPEG (quality 90, Pillow's default 4:2:0 chroma
subsampling), and torchvision's preprocessing of each (PIL path: Image.open().convert("RGB"),
transforms.Resize(size, interpolation), CenterCrop(crop), ToTensor(), Normalize(mean, std)),
stored as float32 NCHW tensors in preprocessed.safetensors under "<png|jpeg>_<config>".

Configs: "resnet18" is the real torchvision preset (256/224, bilinear, ImageNet mean/std,
PNG only, to keep the file small); the rest are small sizes that exercise upscaling and
downscaling (antialiased) with both filters:
    up_bilinear 48/40, down_bilinear 24/20, up_bicubic 48/40, down_bicubic 24/20 (mean=std=0.5
    for the bicubic ones, as timm's inception presets).

    /work/venv/bin/python bench/peers/make_image_fixtures.py [DIR]
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from torchvision import transforms as T

DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    Path(__file__).resolve().parents[2] / "nets" / "tests" / "fixtures" / "images"

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
HALF = ([0.5] * 3, [0.5] * 3)
BIL, BIC = T.InterpolationMode.BILINEAR, T.InterpolationMode.BICUBIC
CONFIGS = {
    "resnet18": (256, 224, BIL, IMAGENET),
    "up_bilinear": (48, 40, BIL, IMAGENET),
    "down_bilinear": (24, 20, BIL, IMAGENET),
    "up_bicubic": (48, 40, BIC, HALF),
    "down_bicubic": (24, 20, BIC, HALF),
}


def picture(w=40, h=30):
    """Smooth gradients plus sharp edges and a little noise: something for every filter tap."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * (0.5 + 0.5 * np.sin(x / 3.0 + y / 5.0))
    b = np.where((x // 8 + y // 6) % 2 == 0, 230.0, 20.0)
    img = np.stack([r, g, b], axis=-1) + np.random.default_rng(5).normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def main():
    DIR.mkdir(parents=True, exist_ok=True)
    pic = picture()
    pic.save(DIR / "tiny.png")
    pic.save(DIR / "tiny.jpg", quality=90)
    tensors = {}
    for fmt, name in (("png", "tiny.png"), ("jpeg", "tiny.jpg")):
        img = Image.open(DIR / name).convert("RGB")
        for cfg, (resize, crop, interp, (mean, std)) in CONFIGS.items():
            if cfg == "resnet18" and fmt == "jpeg":
                continue
            t = T.Compose([T.Resize(resize, interpolation=interp), T.CenterCrop(crop), T.ToTensor(),
                           T.Normalize(mean, std)])(img)
            tensors[f"{fmt}_{cfg}"] = t.unsqueeze(0).contiguous().to(torch.float32)
        # Pillow's decoded pixels, so that decoder differences can be told from resize ones.
        tensors[f"{fmt}_pixels"] = torch.from_numpy(np.asarray(img).astype(np.float32)).contiguous()
    meta = {k: json.dumps({"resize": r, "crop": c, "filter": i.value, "mean": m, "std": s})
            for k, (r, c, i, (m, s)) in CONFIGS.items()}
    save_file(tensors, str(DIR / "preprocessed.safetensors"), metadata=meta)
    for k, v in tensors.items():
        print(k, tuple(v.shape))


if __name__ == "__main__":
    main()
