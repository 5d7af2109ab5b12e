#!/usr/bin/env bash
# Stacked MNIST on ONE CPU core (issue 17): VEEGAN Table 2, then PacGAN Table 2, at a budget that fits ~75 minutes of
# wall time on the shared 2-core development machine (benchmarks/reproduce/results/stacked-mnist-cpu-status.md has the
# measurements behind it): the DCGAN nets at width 8 (`--set width=8`; the papers' carpedm20 nets are width 64, 2.5
# CPU-s a step here), 300 iterations (paper: 100,000), 2 seeds (paper: 5 / 10), evaluated at 150 and 300 on the full
# 26,000 samples. Both tables share one --out, so PacGAN Table 2 reuses VEEGAN Table 2's DCGAN runs (same configuration,
# same run folder). Then pacgan-table3 on its own (already small) unrolled-GAN nets, 300 iterations, 2 seeds, one
# evaluation at the end (25,600 samples): ~1 hour of a free core more (see the status file). Resumable: run it again after a kill;
# finished runs are kept, killed ones resume from their last evaluation's checkpoint. The GPU job at the papers' budget
# is benchmarks/gpu/issue17.py.
#   bash benchmarks/reproduce/stacked_mnist_cpu.sh OUT_DIR [MNIST_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?give the output folder}
mnist=${2:-../shared/data/mnist}
export OMP_NUM_THREADS=1 PYTHONPATH=$PWD
budget=(--steps 300 --eval-every 150 --seeds 2 --jobs 1 --threads 1 --set width=8 --data-dir "$mnist" --out "$out")
nice -n 10 python -m trainers.reproduce veegan-table2 "${budget[@]}"
nice -n 10 python -m trainers.reproduce pacgan-table2 "${budget[@]}"
nice -n 10 python -m trainers.reproduce pacgan-table3 --steps 300 --eval-every 300 --seeds 2 --jobs 1 --threads 1 \
    --data-dir "$mnist" --out "$out"
