#!/usr/bin/env bash
# The VEEGAN row of VEEGAN Table 1 at the paper's 100k iterations on the CPU (issue 13's fallback without a GPU):
# the 2-D columns first (about 35 min per run on one core), then hd1200 (about 1.5 h per run), two runs at a time.
# Resumable: run it again after a kill; finished runs are kept and killed ones resume from their last 10k checkpoint.
#   bash benchmarks/reproduce/veegan_100k_cpu.sh OUT_DIR [JOBS]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?give the output folder}
jobs=${2:-2}
export OMP_NUM_THREADS=1 PYTHONPATH=$PWD
python -m trainers.reproduce veegan-table1 --rows VEEGAN --datasets ring8 grid25 --steps 100000 --jobs "$jobs" --out "$out"
python -m trainers.reproduce veegan-table1 --rows VEEGAN --steps 100000 --jobs "$jobs" --out "$out"
