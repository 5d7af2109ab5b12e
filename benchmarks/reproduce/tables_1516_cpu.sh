#!/usr/bin/env bash
# bms-table1 (issue 16) and mode-collapse-mini-family (issue 15) on the CPU, cheapest rows first, 5 seeds grouped into one
# model per cell, one thread: bms-table1's VEEGAN, MD-GAN and WAE rows at the paper's 25,000 iterations (the cheap rows:
# 5-12 ms per seed-step), then the family's cheap objectives at the table's 10,000 (5-50 ms; MMD-GAN 38 ms over its
# critic schedule), then GDPP (~56 ms), then the rest (alpha-GAN, SN-GAN, BMS-VAE-GAN, the critics: 110-620 ms per
# seed-step, STEP_MS in trainers/reproduce.py; a GPU's job: benchmarks/gpu/ has the script).
# Resumable: run it again after a kill; finished runs are kept, killed ones resume from their last evaluation's checkpoint. Status while it trains: benchmarks/reproduce/runs_status.py OUT/runs.
#   bash benchmarks/reproduce/tables_1516_cpu.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?give the output folder}
export OMP_NUM_THREADS=1 PYTHONPATH=$PWD
bms="python -m trainers.reproduce bms-table1 --group-seeds --jobs 1 --out $out/bms-table1"
family="python -m trainers.reproduce mode-collapse-mini-family --group-seeds --jobs 1 --out $out/family"
$bms --rows VEEGAN MD-GAN WAE
# cheapest first, so that a session's share of the CPU finishes whole cells (--jobs 1 starts a call's longest first)
$family --rows BEGAN EBGAN "LSGAN (0,1,1)" "LSGAN (-1,1,0)"
$family --rows GAN MMD-GAN
$family --rows "f-GAN kl" "f-GAN reverse-kl" "f-GAN js" "f-GAN pearson" "f-GAN squared-hellinger"
$bms --rows GDPP
$bms --rows alpha-GAN SN-GAN BMS-VAE-GAN
$family --rows hinge SN-GAN WGAN-GP BW-GAN WGAN
