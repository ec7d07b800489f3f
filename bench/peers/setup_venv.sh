#!/usr/bin/env bash
# Creates the Python virtualenv the peer scripts (make_fixtures.py, time_peers.py) run in.
# The venv lives OUTSIDE the repository (default /work/venv, override with LINEAGE_VENV)
# because it is ~1-4 GB and must never be committed.
#
# torch comes from the PyTorch CPU wheel index when that host is reachable (small, no CUDA);
# otherwise from plain PyPI, whose Linux x86_64 torch wheel also pulls the NVIDIA runtime
# libraries (a few GB on disk, unused on CPU, harmless).
set -euo pipefail

VENV="${LINEAGE_VENV:-/work/venv}"
PYTHON="${PYTHON:-python3}"
CPU_INDEX="https://download.pytorch.org/whl/cpu"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --upgrade)
"${PIP[@]}" pip wheel

if curl -fsS --max-time 10 -o /dev/null "$CPU_INDEX/torch/"; then
    echo "using the PyTorch CPU wheel index"
    "${PIP[@]}" --index-url "$CPU_INDEX" --extra-index-url https://pypi.org/simple torch torchvision
else
    echo "PyTorch CPU index unreachable; installing torch from PyPI"
    "${PIP[@]}" torch torchvision
fi
"${PIP[@]}" timm onnx onnxruntime onnxscript openvino safetensors numpy pillow

"$VENV/bin/python" - <<'PY'
import torch, torchvision, timm, onnx, onnxruntime, safetensors, numpy, PIL
print("torch", torch.__version__, "| torchvision", torchvision.__version__, "| timm", timm.__version__)
print("onnx", onnx.__version__, "| onnxruntime", onnxruntime.__version__, "| numpy", numpy.__version__)
print("torch threads", torch.get_num_threads(), "| MKL-DNN", torch.backends.mkldnn.is_available())
PY
du -sh "$VENV"
