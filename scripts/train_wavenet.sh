#!/usr/bin/env bash
# Train wavenet-digits in the background on one core (another run may use the other one).
# Rerun the same command to resume: the trainer continues from runs/wavenet-digits/checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python -m aigc train wavenet --dataset spoken-digits --steps 12000 \
    --out runs/wavenet-digits "$@" >> runs/wavenet-digits.log 2>&1 &
echo "training wavenet-digits as process $!; log: runs/wavenet-digits.log"
