#!/usr/bin/env bash
# CUDA smoke check: the embedded default trained on the GPU, then predict + evaluate must
# reproduce the training run's test numbers.  Usage: bash benchmarks/gpu_smoke.sh OUT_DIR
set -euo pipefail
out=${1:-gpu_smoke}
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1
python3 -c "import torch; print('torch', torch.__version__, 'device', torch.cuda.get_device_name(0))"
start=$(date +%s)
python3 -m vlanet train train.device=cuda --run-dir "$out/run" --json --quiet | tee "$out/train.txt"
echo "train wall seconds: $(( $(date +%s) - start ))"
python3 -m vlanet predict --checkpoint "$out/run" --out "$out/preds.jsonl" --gt-out "$out/gt.jsonl" --quiet
python3 -m vlanet evaluate "$out/preds.jsonl" "$out/gt.jsonl" --json > "$out/eval.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
train = json.loads(open(f"{out}/train.txt").read().strip().splitlines()[-1])["test"]
ev = json.load(open(f"{out}/eval.json"))
print("predict+evaluate equals training run:", ev == train)
sys.exit(0 if ev == train else 1)
PY
