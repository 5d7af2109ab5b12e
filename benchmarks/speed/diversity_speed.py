"""Speed and peak memory of PRDC and birthday pairs against brute-force peers, from one run, results asserted equal;
and of NDB's k-means bins (no peer).

    PYTHONPATH=. python benchmarks/speed/diversity_speed.py [--n 10000] [--pairs-n 20000] [--ndb-n N] [--dim 2048] \
        [--device cpu] [--tasks prdc,birthday,ndb]

Memory growth (issue 14: k-NN metrics stay O(N * k), not O(N^2)): give several sizes and a JSON file,

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/diversity_speed.py --n 2000,4000,8000,16000 \
        --pairs-n 2000,4000,8000,16000 --json growth.json

and a last table shows, per side, the peak RSS over the data at each size and the growth exponent between
consecutive sizes (log of the memory ratio over log of the size ratio: 1 linear, 2 quadratic).

* PRDC, n real vs n fake features of ``--dim`` dims, k = 5: gan-eval (exact k-NN radii by FAISS or torch,
  blockwise cross terms) vs the ``prdc`` package (``compute_prdc``: three dense n x n matrices by scikit-learn),
  given float64 features so that both compare exact distances.
* Birthday, the 20 closest pairs among ``--pairs-n`` samples: gan-eval (``nearest_pairs``) vs a dense numpy brute
  force (float64 Gram-matrix distances, n x n, argpartition).
* NDB, ``--ndb-n`` (default: the ``--n`` sizes) real features binned into K = 100 k-means bins (the metric's defaults,
  but ``n_init`` = 1: each run holds the same memory, ten take ten times as long), then as many fake features
  binned and tested. Its peer, the reference code's unseeded scikit-learn k-means, gives other bins: no equality to
  assert, so only gan-eval's figures are printed (peak RSS is what issue-14-style memory checks need).

Each side runs in its own subprocess on the same seeded data, so its peak memory (ru_maxrss, and on CUDA
torch.cuda.max_memory_allocated) is its own. A peer is skipped, with a note, when it is not installed or its
dense matrices would not fit in half the free memory; then only gan-eval's figures are printed. On a GPU
machine (no FAISS, no prdc there) use ``--device cuda``: gan-eval runs its torch backend on the GPU and the
peer is the naive dense brute force with torch.cdist on the same GPU (prdc's formulas in float64 for PRDC;
float32 matrix for pairs), skipped when its matrices do not fit in GPU memory.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

K = 5
PAIRS = 20
NDB_K = 100
TASKS = ("prdc", "birthday", "ndb")


def data(kind: str, n: int, dim: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    if kind in ("prdc", "ndb"):
        real = rng.standard_normal((n, dim), dtype=np.float32)
        fake = (rng.standard_normal((n, dim), dtype=np.float32) * 1.05 + 0.02).astype(np.float32)
        return real, fake
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x[n // 2] = x[7]  # one planted duplicate pair: it must come first on both sides
    return (x,)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def gan_eval_side(task: str, arrays: tuple[np.ndarray, ...], device: str, backend: str) -> dict:
    import torch

    from gan_eval.metrics.ndb import make_bins, ndb
    from gan_eval.metrics.prdc import prdc
    from gan_eval.ops.knn import nearest_pairs

    tensors = [torch.from_numpy(a).to(torch.device(device)) for a in arrays]
    if task == "prdc":
        return prdc(tensors[0], tensors[1], K, backend=backend).values()
    if task == "ndb":
        bins = make_bins(tensors[0], NDB_K, seed=0, n_init=1, backend=backend)
        return ndb(tensors[1], bins, backend=backend).values()
    p = nearest_pairs(tensors[0], PAIRS, backend=backend)
    return {"first": p.first.tolist(), "second": p.second.tolist(), "distance": p.distances.tolist()}


def prdc_package_side(real: np.ndarray, fake: np.ndarray) -> dict:
    import contextlib
    import io

    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):
        ref = compute_prdc(real, fake, K)
    return {k: float(v) for k, v in ref.items()}


def numpy_pairs_side(x: np.ndarray) -> dict:
    n = len(x)
    sq = (x * x).sum(1)
    d2 = x @ x.T  # the one n x n matrix, updated in place
    d2 *= -2.0
    d2 += sq[:, None]
    d2 += sq[None, :]
    rows, cols = [], []
    for start in range(0, n, 1024):  # keep i < j, then the PAIRS smallest of each row block
        block = d2[start : start + 1024]
        for r in range(len(block)):
            block[r, : start + r + 1] = np.inf
        part = np.argpartition(block, PAIRS, axis=1)[:, :PAIRS]
        rows.append(np.repeat(np.arange(start, start + len(block)), PAIRS))
        cols.append(part.ravel())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols, rows, d2[rows, cols]))[:PAIRS]
    first, second = rows[order], cols[order]
    dist = np.sqrt(np.maximum(d2[first, second], 0.0))
    return {"first": first.tolist(), "second": second.tolist(), "distance": dist.tolist()}


def worker(task: str, side: str, n: int, dim: int, device: str, backend: str) -> dict:
    """Run one side on the seeded data (the peers' in float64, as they compute). Libraries are imported and the
    data made before the baseline: the peak over it is what the computation holds (ru_maxrss is a high-water
    mark, so a computation smaller than the import peak reads 0)."""
    out: dict = {"task": task, "side": side}
    if side == "peer" and device.startswith("cuda"):
        out.update(dense_torch_peer(task, data(task, n, dim), device))
        return out
    if side == "gan-eval":
        import torch

        import gan_eval.metrics.ndb  # noqa: F401  (imported before the baseline)
        import gan_eval.metrics.prdc  # noqa: F401
        from gan_eval.ops.knn import resolve_backend

        dev = torch.device(device)
        out["backend"] = resolve_backend(backend, dev)
        arrays = data(task, n, dim)
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        base, t0 = rss_mib(), time.perf_counter()
        out["result"] = gan_eval_side(task, arrays, device, backend)
        if dev.type == "cuda":
            torch.cuda.synchronize()
            out["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        arrays = tuple(a.astype(np.float64) for a in data(task, n, dim))
        if task == "prdc":
            import prdc  # noqa: F401  (imported before the baseline)

        base, t0 = rss_mib(), time.perf_counter()
        out["result"] = prdc_package_side(*arrays) if task == "prdc" else numpy_pairs_side(*arrays)
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = rss_mib()
    out["peak_rss_over_data_mib"] = rss_mib() - base
    return out


def dense_torch_peer(task: str, arrays: tuple[np.ndarray, ...], device: str) -> dict:
    """The naive GPU brute force: full distance matrices with torch.cdist (prdc's formulas for PRDC, float64;
    per-row top-k of the masked float32 matrix for pairs, as float64 would not fit at 100k)."""
    import torch

    dev = torch.device(device)
    torch.backends.cuda.matmul.allow_tf32 = False
    tensors = [torch.from_numpy(a).to(dev, torch.float64 if task == "prdc" else torch.float32) for a in arrays]
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    if task == "prdc":
        real, fake = tensors
        r_real = torch.cdist(real, real).kthvalue(K + 1, dim=1).values
        r_fake = torch.cdist(fake, fake).kthvalue(K + 1, dim=1).values
        d = torch.cdist(real, fake)
        inside = d < r_real[:, None]
        result = {
            "precision": float(inside.any(0).double().mean()),
            "recall": float((d < r_fake[None]).any(1).double().mean()),
            "density": float(inside.sum(0).double().mean() / K),
            "coverage": float((d.min(1).values < r_real).double().mean()),
        }
    else:
        x = tensors[0]
        n = len(x)
        best_d, best_j = [], []
        d = torch.cdist(x, x)
        idx = torch.arange(n, device=dev)
        for start in range(0, n, 4096):  # mask j <= i block by block, then per-row top-k
            block = d[start : start + 4096]
            block[idx[None] <= idx[start : start + 4096, None]] = float("inf")
            v, j = block.topk(PAIRS, dim=1, largest=False)
            best_d.append(v)
            best_j.append(j)
        v, j = torch.cat(best_d), torch.cat(best_j)
        i = idx[:, None].expand_as(j)
        order = torch.sort(v.flatten(), stable=True).indices[:PAIRS]
        first, second = i.flatten()[order], j.flatten()[order]
        exact = (x[first].double() - x[second].double()).pow(2).sum(1).sqrt()
        result = {"first": first.tolist(), "second": second.tolist(), "distance": exact.tolist()}
    torch.cuda.synchronize()
    return {"result": result, "seconds": time.perf_counter() - t0, "gpu_peak_mib": torch.cuda.max_memory_allocated() / 2**20,
            "peak_rss_mib": rss_mib(), "peak_rss_over_data_mib": 0.0}


def run_side(task: str, side: str, args: argparse.Namespace, n: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", task, side, "--n", str(n), "--pairs-n", str(n), "--dim", str(args.dim),
           "--device", args.device, "--backend", args.backend]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{task}/{side} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peer_skip_reason(task: str, n: int, device: str) -> str | None:
    if task == "ndb":
        return "no peer computes the same seeded bins (the reference code's scikit-learn k-means is unseeded)"
    if device.startswith("cuda"):
        import torch

        dense = (3 if task == "prdc" else 1.2) * n * n * (8 if task == "prdc" else 4)
        free = torch.cuda.mem_get_info(torch.device(device))[0]
        if dense > 0.9 * free:
            return f"the dense torch peer needs ~{dense / 2**30:.0f} GiB of GPU memory, {free / 2**30:.0f} GiB free"
        return None
    if task == "prdc":
        try:
            import prdc  # noqa: F401
        except ImportError:
            return "prdc package not installed"
    dense = (3 if task == "prdc" else 1.2) * n * n * 8
    free = available_bytes()
    if dense > free / 2:
        return f"its dense matrices need ~{dense / 2**30:.0f} GiB, more than half the available {free / 2**30:.0f} GiB"
    return None


def available_bytes() -> float:
    """MemAvailable (free plus reclaimable page cache) where /proc/meminfo exists, else free pages, else unbounded."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError):
        return float("inf")


def check_equal(task: str, ours: dict, peer: dict) -> None:
    if task == "prdc":
        for key, value in peer.items():
            assert abs(ours[key] - value) <= 1e-6, (key, ours[key], value)
    else:
        assert ours["first"] == peer["first"] and ours["second"] == peer["second"], (ours, peer)
        # the dense peer uses the Gram expansion: about 1e-6 of round-off where gan-eval gives an exact 0
        np.testing.assert_allclose(ours["distance"], peer["distance"], rtol=1e-6, atol=1e-4)


def sizes(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of sizes, e.g. 2000,4000") from None
    if not values or min(values) <= K:
        raise argparse.ArgumentTypeError(f"{text!r}: every size must exceed k = {K}")
    return values


def compare(task: str, n: int, args: argparse.Namespace) -> dict:
    """One size of one task: gan-eval, then the peer unless skipped; prints the lines and returns the record."""
    what = {"prdc": f"PRDC {n} vs {n}, k={K}", "birthday": f"birthday top-{PAIRS} pairs of {n}",
            "ndb": f"NDB {n} vs {n}, K={NDB_K}, n_init=1"}[task]
    ours = run_side(task, "gan-eval", args, n)
    record = {"task": task, "n": n, "gan-eval": ours}
    gpu = f", GPU peak {ours['gpu_peak_mib']:.0f} MiB" if "gpu_peak_mib" in ours else ""
    print(f"\n{what}\n  gan-eval ({ours['backend']}): {ours['seconds']:.1f} s, peak RSS +{ours['peak_rss_over_data_mib']:.0f} MiB over the data{gpu}")
    reason = peer_skip_reason(task, n, args.device)
    if reason:
        print(f"  peer skipped: {reason}")
        print(f"  result: {ours['result']['distance'][:3] if task == 'birthday' else ours['result']}")
        record["peer_skipped"] = reason
        return record
    peer = run_side(task, "peer", args, n)
    check_equal(task, ours["result"], peer["result"])
    record["peer"] = peer
    if "gpu_peak_mib" in peer:
        memory, ratio = f"GPU peak {peer['gpu_peak_mib']:.0f} MiB", peer["gpu_peak_mib"] / max(ours["gpu_peak_mib"], 1)
        name = "dense torch.cdist on GPU"
    else:
        memory = f"peak RSS +{peer['peak_rss_over_data_mib']:.0f} MiB over the data"
        ratio = peer["peak_rss_over_data_mib"] / max(ours["peak_rss_over_data_mib"], 1)
        name = "prdc.compute_prdc" if task == "prdc" else "numpy dense"
    record["peer_name"] = name
    print(f"  {name}: {peer['seconds']:.1f} s, {memory}")
    print(f"  speed-up x{peer['seconds'] / ours['seconds']:.2f}, memory ratio x{ratio:.1f}; results equal")
    if task == "prdc":
        print(f"  values: {ours['result']}")
    return record


def memory_of(side: dict) -> float:
    return side["gpu_peak_mib"] if "gpu_peak_mib" in side else side["peak_rss_over_data_mib"]


def growth_table(records: list[dict]) -> list[str]:
    """Per task and side: peak memory over the data at each size, and the exponent p in memory ~ N^p between
    consecutive sizes."""
    lines = ["| task | side | N | seconds | peak over data (MiB) | exponent vs previous N |", "|---|---|---:|---:|---:|---:|"]
    for task in TASKS:
        for side in ("gan-eval", "peer"):
            rows = [r for r in records if r["task"] == task and side in r]
            previous = None
            for r in rows:
                mib = memory_of(r[side])
                exponent = "" if previous is None or previous[1] <= 0 or mib <= 0 else f"{math.log(mib / previous[1]) / math.log(r['n'] / previous[0]):.2f}"
                name = r.get("peer_name", "peer") if side == "peer" else "gan-eval"
                lines.append(f"| {task} | {name} | {r['n']} | {r[side]['seconds']:.1f} | {mib:.0f} | {exponent} |")
                previous = (r["n"], mib)
    return lines


def machine_description() -> str:
    """CPU model, core count, torch version and the nice value: what the figures depend on."""
    import platform

    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cpus, torch {torch.__version__}, nice {os.nice(0)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=sizes, default=[10_000], help="PRDC: real and fake samples each, or a list 2000,4000 (the issue: 50000)")
    parser.add_argument("--pairs-n", type=sizes, default=[20_000], help="birthday: samples searched, or a list (the issue: 100000)")
    parser.add_argument("--ndb-n", type=sizes, default=None, help="NDB: real and fake samples each, or a list (default: the --n sizes)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {','.join(TASKS)}")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto", help="gan-eval k-NN backend: auto, faiss or torch")
    parser.add_argument("--json", type=Path, default=None, help="write every record and the growth table here")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        task, side = args.worker
        print(json.dumps(worker(task, side, args.n[0], args.dim, args.device, args.backend)))
        return
    machine = machine_description()
    print(f"diversity speed: dim {args.dim}, device {args.device}, backend {args.backend}, {machine}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    tasks = args.tasks.split(",")
    if not set(tasks) <= set(TASKS):
        parser.error(f"--tasks {args.tasks!r}: each must be one of {', '.join(TASKS)}")
    size_lists = {"prdc": args.n, "birthday": args.pairs_n, "ndb": args.ndb_n or args.n}
    records = [compare(task, n, args) for task in TASKS if task in tasks for n in size_lists[task]]
    table = growth_table(records)
    print("\nPeak memory over the data by size\n" + "\n".join(table))
    if args.json:
        summary = {"dim": args.dim, "device": args.device, "backend": args.backend, "cpus": os.cpu_count(), "machine": machine,
                   "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "records": records, "growth_table": table}
        args.json.write_text(json.dumps(summary, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
