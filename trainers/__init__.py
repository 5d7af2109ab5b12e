"""Reference trainers: one training loop (:mod:`trainers.loop`) and one file per method (:mod:`trainers.methods`).

``python -m trainers.reproduce TABLE --out DIR`` re-runs a paper's table with only torch, numpy, scipy and
matplotlib installed (no typer), for machines where the CLI is not installed.
"""
