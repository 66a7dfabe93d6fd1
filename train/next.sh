#!/usr/bin/env bash
# next.sh OUT_DIR [next.py options] — the next model (train/next.py), from scratch on one GPU:
# autoencoder, latent cache, text encoder and denoiser, export, evaluation, and a comparison with the
# default, budgeted to fit 12 minutes on one H100 or H200 with 16 cores. Run from the repository root.
# It needs the C engine (build/kineto; built here if missing) and eval.py's judges
# (weights/eval-judges.pt, committed): on a machine without network, build the engine before.
# Writes into OUT_DIR: kineto-next.kin and kineto-next-encoder.kin (rewritten every minute of
# training, so a run cut short leaves a model; run again to resume), eval.json, compare.json,
# and next.log. A dry run of every stage in miniature, on a CPU: train/next.sh OUT --dry-run
set -euo pipefail
out=${1:?usage: train/next.sh OUT_DIR [--dry-run] [next.py options]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
[ -x build/kineto ] || ./build.sh native
build/kineto --version
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
          torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
"$py" train/next.py --out "$out" "$@" 2>&1 | tee "$out/next.log"
