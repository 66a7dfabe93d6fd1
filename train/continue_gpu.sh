#!/usr/bin/env bash
# continue_gpu.sh OUT_DIR [AE_MINUTES] [DENOISER_MINUTES] — the next training step for the shipped
# model, sized to fit one GPU session of under ten minutes (weights/README.md, "Continuing training"):
#   1. the autoencoder, encoder and decoder together, trained further from the shipped ones
#      (tune_autoencoder.py; the new latents are rescaled to the old spread);
#   2. the text encoder and denoiser, from the shipped weights, retrained on the new latents of
#      50,000 fresh clips (train.py --init), the learning rate annealed over the second half.
# Writes into OUT_DIR: kineto-world-encoder.kin (after stage 1), kineto-world.kin (the pair's model,
# rewritten at every checkpoint of stage 2, so a run cut short still leaves one), and both logs.
# The two files go together: the denoiser learnt on this encoder's latents.
# Run from the repository root. For a dry run on a CPU, shrink it: AE_CLIPS=64 CACHE_CLIPS=64
# AE_BATCH=16 BATCH=8 train/continue_gpu.sh /tmp/dry 0.2 0.3
set -euo pipefail
out=${1:?usage: train/continue_gpu.sh OUT_DIR [AE_MINUTES] [DENOISER_MINUTES]}
ae_minutes=${2:-2}
denoiser_minutes=${3:-5}
py=${PYTHON:-python3}
runs=${RUNS:-$(mktemp -d)}
mkdir -p "$out" "$runs"

"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
"$py" train/tune_autoencoder.py --init weights/kineto-world.kin weights/kineto-world-encoder.kin \
    --run "$runs/ae" --minutes "$ae_minutes" --clips "${AE_CLIPS:-8000}" --batch "${AE_BATCH:-256}" \
    --ckpt-minutes 1 --out "$runs/autoencoder.kin" --encoder-out "$out/kineto-world-encoder.kin" \
    2>&1 | tee "$out/autoencoder.log"
"$py" train/train.py --run "$runs/denoiser" --init "$runs/autoencoder.kin" "$out/kineto-world-encoder.kin" \
    --cache-clips "${CACHE_CLIPS:-50000}" --batch "${BATCH:-512}" --lr 6e-4 --minutes "$denoiser_minutes" \
    --decay-minutes "$(awk "BEGIN { print $denoiser_minutes / 2 }")" --ckpt-minutes 1 \
    --out "$out/kineto-world.kin" 2>&1 | tee "$out/denoiser.log"
