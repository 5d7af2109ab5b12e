"""Speed and peak memory of PRDC and birthday pairs against brute-force peers, from one run, results asserted equal.

    PYTHONPATH=. python benchmarks/speed/diversity_speed.py [--n 10000] [--pairs-n 20000] [--dim 2048] [--device cpu]

* PRDC, n real vs n fake features of ``--dim`` dims, k = 5: gan-eval (exact k-NN radii by FAISS or torch,
  blockwise cross terms) vs the ``prdc`` package (``compute_prdc``: three dense n x n matrices by scikit-learn),
  given float64 features so that both compare exact distances.
* Birthday, the 20 closest pairs among ``--pairs-n`` samples: gan-eval (``nearest_pairs``) vs a dense numpy brute
  force (float64 Gram-matrix distances, n x n, argpartition).

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
import os
import resource
import subprocess
import sys
import time

import numpy as np

K = 5
PAIRS = 20


def data(kind: str, n: int, dim: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    if kind == "prdc":
        real = rng.standard_normal((n, dim), dtype=np.float32)
        fake = (rng.standard_normal((n, dim), dtype=np.float32) * 1.05 + 0.02).astype(np.float32)
        return real, fake
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x[n // 2] = x[7]  # one planted duplicate pair: it must come first on both sides
    return (x,)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(task: str, side: str, n: int, dim: int, device: str, backend: str) -> dict:
    """Run one side on the seeded data; libraries are imported and the data made before the baseline memory."""
    out: dict = {"task": task, "side": side}
    if side == "gan-eval":
        import torch

        from gan_eval.metrics.prdc import prdc
        from gan_eval.ops.knn import nearest_pairs, resolve_backend

        dev = torch.device(device)
        tensors = [torch.from_numpy(a).to(dev) for a in data(task, n, dim)]
        out["backend"] = resolve_backend(backend, dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        base, t0 = rss_mib(), time.perf_counter()
        if task == "prdc":
            out["result"] = prdc(tensors[0], tensors[1], K, backend=backend).values()
        else:
            p = nearest_pairs(tensors[0], PAIRS, backend=backend)
            out["result"] = {"first": p.first.tolist(), "second": p.second.tolist(), "distance": p.distances.tolist()}
        if dev.type == "cuda":
            torch.cuda.synchronize()
            out["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    elif device.startswith("cuda"):
        out.update(dense_torch_peer(task, data(task, n, dim), device))
        return out
    elif task == "prdc":
        import contextlib
        import io

        from prdc import compute_prdc

        real, fake = (a.astype(np.float64) for a in data(task, n, dim))
        base, t0 = rss_mib(), time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            ref = compute_prdc(real, fake, K)
        out["result"] = {k: float(v) for k, v in ref.items()}
    else:
        x = data(task, n, dim)[0].astype(np.float64)
        base, t0 = rss_mib(), time.perf_counter()
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
        out["result"] = {"first": first.tolist(), "second": second.tolist(), "distance": dist.tolist()}
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


def run_side(task: str, side: str, args: argparse.Namespace) -> dict:
    n = args.n if task == "prdc" else args.pairs_n
    cmd = [sys.executable, __file__, "--worker", task, side, "--n", str(n), "--pairs-n", str(n), "--dim", str(args.dim),
           "--device", args.device, "--backend", args.backend]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{task}/{side} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peer_skip_reason(task: str, n: int, device: str) -> str | None:
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
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        free = float("inf")
    if dense > free / 2:
        return f"its dense matrices need ~{dense / 2**30:.0f} GiB, more than half the free {free / 2**30:.0f} GiB"
    return None


def check_equal(task: str, ours: dict, peer: dict) -> None:
    if task == "prdc":
        for key, value in peer.items():
            assert abs(ours[key] - value) <= 1e-6, (key, ours[key], value)
    else:
        assert ours["first"] == peer["first"] and ours["second"] == peer["second"], (ours, peer)
        # the dense peer uses the Gram expansion: about 1e-6 of round-off where gan-eval gives an exact 0
        np.testing.assert_allclose(ours["distance"], peer["distance"], rtol=1e-6, atol=1e-4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="PRDC: real and fake samples each (the issue: 50000)")
    parser.add_argument("--pairs-n", type=int, default=20_000, help="birthday: samples searched (the issue: 100000)")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto", help="gan-eval k-NN backend: auto, faiss or torch")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        task, side = args.worker
        print(json.dumps(worker(task, side, args.n, args.dim, args.device, args.backend)))
        return
    print(f"diversity speed: dim {args.dim}, device {args.device}, backend {args.backend}, cpus {os.cpu_count()}")
    for task, n in (("prdc", args.n), ("birthday", args.pairs_n)):
        what = f"PRDC {n} vs {n}, k={K}" if task == "prdc" else f"birthday top-{PAIRS} pairs of {n}"
        ours = run_side(task, "gan-eval", args)
        gpu = f", GPU peak {ours['gpu_peak_mib']:.0f} MiB" if "gpu_peak_mib" in ours else ""
        print(f"\n{what}\n  gan-eval ({ours['backend']}): {ours['seconds']:.1f} s, peak RSS +{ours['peak_rss_over_data_mib']:.0f} MiB over the data{gpu}")
        reason = peer_skip_reason(task, n, args.device)
        if reason:
            print(f"  peer skipped: {reason}")
            print(f"  result: {ours['result'] if task == 'prdc' else ours['result']['distance'][:3]}")
            continue
        peer = run_side(task, "peer", args)
        check_equal(task, ours["result"], peer["result"])
        if "gpu_peak_mib" in peer:
            memory, ratio = f"GPU peak {peer['gpu_peak_mib']:.0f} MiB", peer["gpu_peak_mib"] / max(ours["gpu_peak_mib"], 1)
            name = "dense torch.cdist on GPU"
        else:
            memory = f"peak RSS +{peer['peak_rss_over_data_mib']:.0f} MiB over the data"
            ratio = peer["peak_rss_over_data_mib"] / max(ours["peak_rss_over_data_mib"], 1)
            name = "prdc.compute_prdc" if task == "prdc" else "numpy dense"
        print(f"  {name}: {peer['seconds']:.1f} s, {memory}")
        print(f"  speed-up x{peer['seconds'] / ours['seconds']:.2f}, memory ratio x{ratio:.1f}; results equal")
        if task == "prdc":
            print(f"  values: {ours['result']}")


if __name__ == "__main__":
    main()
