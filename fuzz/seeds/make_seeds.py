"""Writes the seed corpora of the `weights` and `inputs` fuzz targets: valid safetensors files
for the fuzz crate's tiny network (fuzz/src/tiny.rs) and valid .npy arrays, plus a few broken
ones of each. Run with /work/venv/bin/python fuzz/seeds/make_seeds.py from the repository root."""

import json
import os
import struct

import numpy as np
from safetensors.numpy import save

rng = np.random.default_rng(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "corpus")

TINY = {
    "conv1.weight": (4, 3, 3, 3),
    "conv1.bias": (4,),
    "conv2.weight": (6, 4, 3, 3),
    "bn2.weight": (6,),
    "bn2.bias": (6,),
    "bn2.running_mean": (6,),
    "bn2.running_var": (6,),
    "fc.weight": (5, 6),
    "fc.bias": (5,),
}


def tensors(dtype):
    out = {k: rng.standard_normal(s).astype(dtype) for k, s in TINY.items()}
    out["bn2.running_var"] = np.abs(out["bn2.running_var"]) + np.asarray(0.5, dtype)
    return out


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


valid = save(tensors(np.float32), metadata={"format": "pt"})
write("weights", "tiny-f32.safetensors", valid)
write("weights", "tiny-f16.safetensors", save(tensors(np.float16)))
bf16 = {k: (v.view(np.uint32) >> 16).astype(np.uint16) for k, v in tensors(np.float32).items()}
# numpy has no bfloat16: write the raw halves and relabel them in the header.
raw = bytearray(save(bf16))
header_len = struct.unpack("<Q", raw[:8])[0]
header = raw[8 : 8 + header_len].decode().replace('"U16"', '"BF16"')
write("weights", "tiny-bf16.safetensors", raw[:8] + header.encode() + raw[8 + header_len :])
extra = tensors(np.float32)
extra["head.weight"] = np.zeros((2, 2), np.float32)
extra["bn2.num_batches_tracked"] = np.zeros((), np.int64)
write("weights", "tiny-extra.safetensors", save(extra))
missing = tensors(np.float32)
del missing["fc.bias"]
write("weights", "tiny-missing.safetensors", save(missing))
misshaped = tensors(np.float32)
misshaped["conv2.weight"] = rng.standard_normal((6, 4, 1, 1)).astype(np.float32)
write("weights", "tiny-misshaped.safetensors", save(misshaped))
wrong_dtype = tensors(np.float32)
wrong_dtype["conv1.bias"] = np.arange(4, dtype=np.int32)
write("weights", "tiny-int32.safetensors", save(wrong_dtype))
write("weights", "truncated.safetensors", valid[: len(valid) - 7])
write("weights", "huge-header.safetensors", struct.pack("<Q", 1 << 62) + valid[8:])
huge = json.dumps({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 30], "data_offsets": [0, 16]}}).encode()
write("weights", "huge-shape.safetensors", struct.pack("<Q", len(huge)) + huge + bytes(16))
write("weights", "not-json.safetensors", struct.pack("<Q", 4) + b"{]x}" + bytes(4))


def npy(array):
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


write("inputs", "nchw-f32.npy", npy(rng.standard_normal((1, 3, 5, 5)).astype(np.float32)))
write("inputs", "chw-f32.npy", npy(rng.standard_normal((3, 4, 6)).astype(np.float32)))
write("inputs", "batch2-f32.npy", npy(rng.standard_normal((2, 3, 3, 3)).astype(np.float32)))
nan = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
nan[0, 1, 2, 2], nan[0, 0, 0, 0] = np.nan, np.inf
write("inputs", "nan-inf-f32.npy", npy(nan))
write("inputs", "f64.npy", npy(rng.standard_normal((1, 3, 4, 4))))
write("inputs", "rank2-f32.npy", npy(np.ones((3, 4), np.float32)))
write("inputs", "four-channels.npy", npy(np.ones((1, 4, 4, 4), np.float32)))
write("inputs", "zero-dim.npy", npy(np.ones((1, 3, 0, 4), np.float32)))
write("inputs", "fortran.npy", npy(np.asfortranarray(np.ones((1, 3, 4, 5), np.float32))))
write("inputs", "big-endian.npy", npy(np.ones((1, 3, 2, 2), ">f4")))
write("inputs", "truncated.npy", npy(np.ones((1, 3, 4, 4), np.float32))[:-5])
write("inputs", "version2.npy", npy(np.ones((3, 2, 2), np.float32)).replace(b"\x01\x00", b"\x02\x00", 1))


# The byte-decoded targets: short random strings, the first bytes steering each to every op
# (ops_differential: byte 0 picks the op, byte 1 below 32 makes the problem "wild").
for i in range(20):
    body = bytes([i % 5, 200 if i < 15 else 7]) + rng.integers(0, 256, 38, dtype=np.uint8).tobytes()
    write("ops_differential", f"seed-{i:02}", body)
for i in range(16):
    body = bytes([200 if i < 13 else 5]) + rng.integers(0, 256, 60, dtype=np.uint8).tobytes()
    write("planner", f"seed-{i:02}", body)


def image(array, mode=None, fmt="PNG", convert=None, **options):
    import io

    from PIL import Image

    img = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    img = img.convert(convert) if convert else img
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


# Images in each colour type the decoders expand, and the command line's image fixtures.
for name in ["tiny.png", "tiny.jpg"]:
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "nets", "tests", "fixtures", "images", name), "rb") as f:
        write("inputs", name, f.read())
pixels = lambda *shape: rng.integers(0, 256, shape, dtype=np.uint8)
write("inputs", "grey.png", image(pixels(6, 9), "L"))
write("inputs", "grey16.png", image(rng.integers(0, 65535, (5, 7)).astype(np.uint16)))
write("inputs", "palette.png", image(pixels(8, 8, 3), convert="P"))
write("inputs", "rgba.png", image(pixels(7, 10, 4), "RGBA"))
write("inputs", "strip.png", image(pixels(40, 1, 3)))
progressive = image(pixels(12, 16, 3), fmt="JPEG", progressive=True)
write("inputs", "progressive.jpg", progressive)
write("inputs", "truncated.jpg", progressive[: len(progressive) // 2])
write("inputs", "grey.jpg", image(pixels(9, 9), "L", fmt="JPEG"))
write("inputs", "cmyk.jpg", image(pixels(8, 8, 4), "CMYK", fmt="JPEG"))
