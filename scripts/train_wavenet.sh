#!/usr/bin/env bash
# Train wavenet-digits, a WaveNet vocoder conditioned on the digit and on the log-mel spectrogram, in the
# background on one core (another run may use the other one). The step loop of generation (evaluation) also
# runs on that one thread. Its evaluation vocodes the real spectrograms of held-out voices and, once the
# spectrogram model `--mel-model` (default mel-digits; a run's name such as mel-diffusion-digits also works)
# loads, the spectrograms it draws.
# Rerun the same command to resume: the trainer continues from runs/wavenet-digits/checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python -m aigc train wavenet --dataset spoken-digits --steps 8000 \
    --out runs/wavenet-digits "$@" >> runs/wavenet-digits.log 2>&1 &
echo "training wavenet-digits as process $!; log: runs/wavenet-digits.log"
