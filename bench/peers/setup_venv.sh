#!/usr/bin/env bash
# Creates the Python virtualenv the peer scripts (make_fixtures.py, time_peers.py) run in.
# The venv lives OUTSIDE the repository (default /work/venv, override with LINEAGE_VENV)
# because it is ~1-4 GB and must never be committed. Packages install by name with plain pip.
set -euo pipefail

VENV="${LINEAGE_VENV:-/work/venv}"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --upgrade)
"${PIP[@]}" pip wheel

"${PIP[@]}" torch torchvision timm pytorchcv onnx onnxruntime onnxscript openvino safetensors numpy pillow

"$VENV/bin/python" - <<'PY'
import torch, torchvision, timm, pytorchcv, onnx, onnxruntime, safetensors, numpy, PIL
print("torch", torch.__version__, "| torchvision", torchvision.__version__, "| timm", timm.__version__)
print("onnx", onnx.__version__, "| onnxruntime", onnxruntime.__version__, "| numpy", numpy.__version__)
print("torch threads", torch.get_num_threads(), "| MKL-DNN", torch.backends.mkldnn.is_available())
PY
du -sh "$VENV"
