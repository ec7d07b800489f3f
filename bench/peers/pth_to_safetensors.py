#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (`.pth` / `.pt`) into a safetensors file lineage can load.

    python bench/peers/pth_to_safetensors.py model.pth model.safetensors

The checkpoint may be a bare state dict (what `torch.save(model.state_dict(), ...)` writes),
a whole pickled model, or a training checkpoint holding the state dict under `state_dict`,
`model_state_dict`, `model` or `state_dict_ema`. Only tensors are kept; tensors that share
storage (tied weights) are copied so that safetensors accepts them. Names are kept as they
are: strip a `module.` (DataParallel) or `model.` prefix at load time with
`lineage run ... --strip-prefix module.`, and see what a file holds and fits with
`lineage inspect model.safetensors`.

The file is loaded with `weights_only=True` (no code from the checkpoint runs) unless
`--trust-pickle` is given, which a whole pickled model needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import save_file

NESTED_KEYS = ("state_dict", "model_state_dict", "model", "state_dict_ema")


def state_dict(obj) -> dict[str, torch.Tensor]:
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in NESTED_KEYS:
            if key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
                return state_dict(obj[key])
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise SystemExit(f"no state dict found in a {type(obj).__name__} "
                     f"(looked for tensors and the keys {', '.join(NESTED_KEYS)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--trust-pickle", action="store_true",
                    help="unpickle arbitrary objects (needed for a whole saved model)")
    args = ap.parse_args()
    obj = torch.load(args.checkpoint, map_location="cpu", weights_only=not args.trust_pickle)
    tensors = {k: v.detach().contiguous().clone() for k, v in state_dict(obj).items()}
    save_file(tensors, str(args.output), metadata={"source": args.checkpoint.name})
    count = sum(t.numel() for t in tensors.values())
    print(f"{args.output}: {len(tensors)} tensors, {count} values")


if __name__ == "__main__":
    main()
