#!/usr/bin/env bash
# The GPU measurements in one go (about 5 minutes on an H100; nothing to download):
#   1. benchmarks/bench.py with bf16 autocast (training, inference, 3,720-query evaluation);
#   2. one Charades-STA-scale epoch (12,408 queries, 4096-d) through train(), features on the
#      GPU (data.preload=device), bf16 -- the "2 s per epoch" target, loading included.
# Usage: bash benchmarks/gpu_targets.sh OUT_DIR   (writes bench.json and epoch.json there)
set -euo pipefail
out=${1:-gpu_targets}
mkdir -p "$out"
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1
python3 -c "import torch; print('torch', torch.__version__, 'device', torch.cuda.get_device_name(0))"
python3 benchmarks/bench.py --device cuda --bf16 --json | tee "$out/bench.txt"
tail -n 1 "$out/bench.txt" > "$out/bench.json"
python3 benchmarks/epoch.py --device cuda --bf16 --preload device --json | tee "$out/epoch.txt"
tail -n 1 "$out/epoch.txt" > "$out/epoch.json"
