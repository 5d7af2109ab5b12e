"""Exact Euclidean k-nearest neighbours and radius-ball counts, in O(N·k) memory, with FAISS or torch.

Precision. Searching is done in float32 (FAISS is float32 only; float32 GEMM is 2x float64) on data
centred at the base's mean, then the candidates that can still be among the k nearest are recomputed in
float64 as ``||x - y||^2`` by direct differences (identical vectors are exactly 0, no cancellation), and each
row is *certified*: float32 round-off in the expansion ``|x|^2 + |y|^2 - 2 x.y`` is bounded by
``BOUND_FACTOR * (d + 8) * 2^-24 * (|x|^2 + |y|^2)`` (the worst-case gamma_n bound of Higham, "Accuracy and
Stability of Numerical Algorithms", Sec. 3.1, with margin), so a point not evaluated exactly provably lies
farther than the k-th exact distance unless that bound says otherwise; such rows (rare) are searched again
exhaustively in float64. The cross terms of :func:`ball_counts` use float64 blocks (same argument with
2^-53, so rechecks are almost never needed). Results therefore
equal a float64 brute force: the distance values exactly (up to float64 rounding of the direct
difference), the neighbour order by (distance, index), ties broken by the smaller index.

``backend``: ``"faiss"`` (``IndexFlatL2``; on CUDA the FAISS GPU index when faiss-gpu is installed),
``"torch"`` (chunked distance blocks with a running top-k, any device; a set searched against itself computes
each block once, for its rows and its columns), or ``"auto"`` (FAISS on CUDA when
faiss-gpu is installed, else torch, which was faster than faiss-cpu on CPU). Both give identical results. On CUDA, TF32 is switched
off inside these functions, since the round-off bound assumes true float32 products.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Iterator

import torch

from gan_eval.errors import GanEvalError

BACKENDS = ("auto", "faiss", "torch")
MARGIN = 8  # extra float32 candidates per row, so that certification nearly never fails
BOUND_FACTOR = 4.0  # safety factor over the worst-case float32 round-off bound
BLOCK_ELEMENTS = 1 << 24  # entries of one distance block (64 MiB in float32): memory, not results
# coordinates of the pairs recomputed in float64 at once (4 MiB): small enough that the chunk's temporaries stay in
# cache, which ran the recheck about 4x faster than 64 MiB chunks (benchmarks/speed/knn_recheck.py); speed, not results
RECHECK_ELEMENTS = 1 << 19
ROW_CHUNK = 4096  # rows per distance block and per float64 conversion: no N x d float64 copy (memory only)


@dataclass
class Neighbours:
    """``sq_distances`` (float64 squared distances) and ``indices`` (int64) of shape (n_queries, k), nearest first."""

    sq_distances: torch.Tensor
    indices: torch.Tensor

    @property
    def distances(self) -> torch.Tensor:
        return self.sq_distances.sqrt()


def faiss_available(device: torch.device) -> bool:
    """Whether FAISS is installed and can search on ``device`` (CPU, or CUDA with faiss-gpu)."""
    try:
        import faiss
    except ImportError:
        return False
    return device.type == "cpu" or (device.type == "cuda" and hasattr(faiss, "StandardGpuResources"))


def resolve_backend(backend: str, device: torch.device) -> str:
    """``auto`` -> ``faiss`` on CUDA with faiss-gpu, else ``torch`` (on CPU, torch's blocked GEMM + top-k ran
    3-4x faster than faiss-cpu's IndexFlatL2 here: benchmarks/speed/diversity_speed.py); an explicit choice
    is checked."""
    if backend not in BACKENDS:
        raise GanEvalError(f"k-NN backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "faiss" if device.type == "cuda" and faiss_available(device) else "torch"
    if backend == "faiss" and not faiss_available(device):
        need = "faiss-gpu" if device.type == "cuda" else "faiss-cpu"
        raise GanEvalError(f"k-NN backend faiss on {device}: {need} is not installed; install it or use backend=torch")
    return backend


@contextlib.contextmanager
def exact_float32(device: torch.device) -> Iterator[None]:
    """Full float32 products on CUDA (no TF32) for the duration, so the round-off bound holds."""
    if device.type != "cuda":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


def roundoff_bound(dim: int, dtype: torch.dtype = torch.float32) -> float:
    """Relative bound on the round-off of ``|x|^2 + |y|^2 - 2 x.y`` in ``dtype``, to multiply by ``|x|^2 + |y|^2``."""
    return BOUND_FACTOR * (dim + 8) * torch.finfo(dtype).eps / 2


def exact_sq_distances(x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """float64 ``||x[rows] - y[cols]||^2`` by direct differences, in chunks of pairs (the chunk's one float64
    temporary updated in place: bit-identical to ``(x[r].double() - y[c].double()).pow(2).sum(1)``)."""
    out = torch.empty(len(rows), dtype=torch.float64, device=x.device)
    step = max(1, RECHECK_ELEMENTS // max(x.shape[1], 1))
    for start in range(0, len(rows), step):
        diff = x[rows[start : start + step]].to(torch.float64)
        diff.sub_(y[cols[start : start + step]])
        out[start : start + step] = diff.mul_(diff).sum(1)
    return out


def row_chunks(z: torch.Tensor, dtype: torch.dtype = torch.float64) -> Iterator[tuple[slice, torch.Tensor]]:
    """``(rows, z[rows].to(dtype))`` for each chunk of ``ROW_CHUNK`` rows, in order: a conversion and the
    temporaries computed from it stay one chunk in size (a no-op view when ``z`` is already ``dtype``)."""
    for start in range(0, len(z), ROW_CHUNK):
        rows = slice(start, start + ROW_CHUNK)
        yield rows, z[rows].to(dtype)


def float64_mean(z: torch.Tensor) -> torch.Tensor:
    """Column means of ``z`` in float64, summed per chunk of ``ROW_CHUNK`` rows (no float64 copy of ``z``).
    Bit-identical to ``z.to(float64).mean(0)`` (a sum, then a division by n) within one chunk; beyond, the
    chunk sums are added in order, a different but equally accurate summation."""
    total = z[:ROW_CHUNK].to(torch.float64).sum(0)
    for start in range(ROW_CHUNK, len(z), ROW_CHUNK):
        total += z[start : start + ROW_CHUNK].to(torch.float64).sum(0)
    return total / len(z)


def row_sq_norms(z: torch.Tensor, dtype: torch.dtype = torch.float64, shift: torch.Tensor | None = None) -> torch.Tensor:
    """``|z_i - shift|^2`` of each row, computed in ``dtype`` per chunk of ``ROW_CHUNK`` rows: bit-identical to
    ``(z.to(dtype) - shift).pow(2).sum(1)`` (each row is reduced on its own) without its N x d temporaries."""
    out = torch.empty(len(z), dtype=dtype, device=z.device)
    for rows, chunk in row_chunks(z, dtype):
        out[rows] = (chunk if shift is None else chunk - shift).pow(2).sum(1)
    return out


def centred_float32(x: torch.Tensor, y: torch.Tensor, around: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` and ``y`` minus the mean of ``around``, as float32 (one copy when ``x is y``). Distances do not
    change; the norms in the round-off bound shrink (features such as Inception's are far from the origin)."""
    mean = float64_mean(around)

    def centred(z: torch.Tensor) -> torch.Tensor:
        out = torch.empty(z.shape, dtype=torch.float32, device=z.device)
        for rows, chunk in row_chunks(z):  # in row chunks: no float64 copy of the whole set
            out[rows] = chunk - mean
        return out

    cx = centred(x)
    return cx, cx if y is x else centred(y)


def _sorted(d2: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows sorted by (distance, index): stable sort by index, then by distance."""
    order = torch.sort(idx, dim=1, stable=True).indices
    d2, idx = d2.gather(1, order), idx.gather(1, order)
    order = torch.sort(d2, dim=1, stable=True).indices
    return d2.gather(1, order), idx.gather(1, order)


def _no_candidates(rows: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Empty (distances, indices) lists for ``rows`` rows, for :func:`_merged` to fill."""
    return torch.full((rows, 0), math.inf, device=device), torch.empty((rows, 0), dtype=torch.int64, device=device)


def _merged(best: tuple[torch.Tensor, torch.Tensor], d2: torch.Tensor, ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k smallest of each row of ``best`` (distances, indices) and of the block ``d2`` (columns ``ids``): the
    block's own k smallest first, so that only k-wide lists are joined (no copy of the block)."""
    block_d, block_pick = d2.topk(min(k, d2.shape[1]), dim=1, largest=False)
    best_d, pick = torch.cat([best[0], block_d], 1).topk(min(k, best[0].shape[1] + block_d.shape[1]), dim=1, largest=False)
    return best_d, torch.cat([best[1], ids[block_pick]], 1).gather(1, pick)


def _candidates_torch_self(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_candidates_torch` of ``x`` against itself from the blocks on and above the diagonal only, each
    merged into the lists of its rows and, transposed, of its columns: half the products of the full search."""
    n = len(x)
    xn = row_sq_norms(x, torch.float32)
    side = max(1, min(n, ROW_CHUNK, math.isqrt(BLOCK_ELEMENTS)))
    starts = range(0, n, side)
    best = [_no_candidates(min(side, n - a), x.device) for a in starts]
    for row, a in enumerate(starts):
        for col, b in enumerate(starts[row:], start=row):
            d2 = (xn[a : a + side, None] + xn[None, b : b + side]).addmm_(x[a : a + side], x[b : b + side].T, alpha=-2.0)
            best[row] = _merged(best[row], d2, torch.arange(b, b + d2.shape[1], device=x.device), k)
            if col != row:
                # a contiguous copy: topk along the rows of a transposed view ran 2x slower than copy and topk
                best[col] = _merged(best[col], d2.T.contiguous(), torch.arange(a, a + d2.shape[0], device=x.device), k)
    return torch.cat([d for d, _ in best]), torch.cat([i for _, i in best])


def _candidates_torch(q: torch.Tensor, b: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 squared distances and indices of the k nearest rows of ``b`` for each row of ``q``."""
    if b is q:
        return _candidates_torch_self(q, k)
    nq, nb = len(q), len(b)
    qn = row_sq_norms(q, torch.float32)
    bn = row_sq_norms(b, torch.float32)
    q_step = max(1, min(nq, ROW_CHUNK))
    b_step = max(k, BLOCK_ELEMENTS // q_step)
    out_d = torch.empty(nq, k, dtype=torch.float32, device=q.device)
    out_i = torch.empty(nq, k, dtype=torch.int64, device=q.device)
    for qs in range(0, nq, q_step):
        qc = q[qs : qs + q_step]
        best = _no_candidates(len(qc), q.device)
        for bs in range(0, nb, b_step):
            d2 = (qn[qs : qs + q_step, None] + bn[None, bs : bs + b_step]).addmm_(qc, b[bs : bs + b_step].T, alpha=-2.0)
            best = _merged(best, d2, torch.arange(bs, bs + d2.shape[1], device=q.device), k)
        out_d[qs : qs + q_step], out_i[qs : qs + q_step] = best
    return out_d, out_i


def _candidates_faiss(q: torch.Tensor, b: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    import faiss
    import numpy as np

    dim = b.shape[1]
    if q.device.type == "cuda":
        res = faiss.StandardGpuResources()
        config = faiss.GpuIndexFlatConfig()
        config.device = q.device.index or 0
        index = faiss.GpuIndexFlatL2(res, dim, config)
    else:
        index = faiss.IndexFlatL2(dim)
    index.add(np.ascontiguousarray(b.cpu().numpy()))
    d2, idx = index.search(np.ascontiguousarray(q.cpu().numpy()), k)
    return torch.from_numpy(d2).to(q.device), torch.from_numpy(idx).to(q.device)


def knn(
    queries: torch.Tensor,
    base: torch.Tensor,
    k: int,
    *,
    exclude_self: bool = False,
    backend: str = "auto",
) -> Neighbours:
    """Exact k nearest rows of ``base`` for each row of ``queries`` (both n x d, any float dtype, same device).

    ``exclude_self``: ``queries`` is ``base`` and a row is not its own neighbour (its duplicates still are).
    Memory O((n_queries + n_base)·d + n_queries·k) plus one fixed-size block; see the module docstring for
    the exactness argument.
    """
    if queries.ndim != 2 or base.ndim != 2 or queries.shape[1] != base.shape[1]:
        raise GanEvalError(f"k-NN: shapes {tuple(queries.shape)} and {tuple(base.shape)} are not n x d with the same d")
    available = len(base) - (1 if exclude_self else 0)
    if not 1 <= k <= available:
        raise GanEvalError(f"k-NN: k = {k} needs 1 <= k <= {available} (points available as neighbours)")
    device = base.device
    backend = resolve_backend(backend, device)
    q32, b32 = centred_float32(queries, base, base)
    extra = 1 if exclude_self else 0
    k_search = min(len(base), k + extra + MARGIN)
    with exact_float32(device), torch.inference_mode():
        fl_d2, idx = (_candidates_faiss if backend == "faiss" else _candidates_torch)(q32, b32, k_search)
        fl = fl_d2.to(torch.float64)  # ascending along each row
        qn = row_sq_norms(q32)
        bn_max = (qn if b32 is q32 else row_sq_norms(b32)).max()
        slack = (roundoff_bound(base.shape[1]) * (qn + bn_max))[:, None]
        # only candidates within the round-off of the k-th float32 value can be among the exact k nearest
        kk = min(k + extra, k_search)
        need = fl <= fl[:, kk - 1 : kk] + 2 * slack
        r, c = torch.nonzero(need, as_tuple=True)
        d2 = torch.full_like(fl, math.inf)
        d2[r, c] = exact_sq_distances(queries, base, r, idx[r, c])
        if exclude_self:
            rows = torch.arange(len(queries), device=device)[:, None]
            d2 = d2.masked_fill(idx == rows, math.inf)  # self sorts last and is dropped below
        # a point not evaluated exactly (a candidate left out, or beyond the list) has true d2 >= its float32 d2
        # - slack >= left_out - slack; the row is certain when that exceeds the k-th exact d2
        left_out = fl.masked_fill(need, math.inf).min(1).values
        if k_search < len(base):
            left_out = torch.minimum(left_out, fl[:, -1])
        d2, idx = _sorted(d2, idx)
        d2, idx = d2[:, :k], idx[:, :k]
        uncertain = torch.nonzero(d2[:, -1] >= left_out - slack[:, 0]).flatten()
        for row in uncertain.tolist():
            d2[row], idx[row] = _exhaustive_row(queries[row], base, k, row if exclude_self else None)
    return Neighbours(d2, idx)


def _exhaustive_row(q: torch.Tensor, base: torch.Tensor, k: int, self_index: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact float64 k nearest of one query by direct differences over all of ``base``."""
    idx = torch.arange(len(base), device=base.device)
    d2 = exact_sq_distances(q[None], base, torch.zeros_like(idx), idx)
    if self_index is not None:
        d2[self_index] = math.inf
    order = torch.sort(d2, stable=True).indices[:k]  # stable over ascending indices: ties by smaller index
    return d2[order], idx[order]


def kth_neighbour_sq_radii(x: torch.Tensor, k: int, *, backend: str = "auto") -> torch.Tensor:
    """Squared distance (float64) from each row of ``x`` to its k-th nearest other row.

    The square root equals prdc's ``compute_nearest_neighbour_distances`` (the (k+1)-th smallest entry of
    each row of the full distance matrix, the row itself being the first) without the N x N matrix. Kept
    squared so that comparisons with other squared distances are exact (sqrt then square is not the identity).
    """
    return knn(x, x, k, exclude_self=True, backend=backend).sq_distances[:, -1]


@dataclass
class BallCounts:
    """Cross terms between point sets X (ball radii rx) and Y (radii ry), strict ``<`` as in prdc.

    ``y_in_x_balls[j]``: number of i with d(x_i, y_j) < rx_i. ``x_ball_nonempty[i]``: some y_j with
    d(x_i, y_j) < rx_i. ``x_in_some_y_ball[i]``: some j with d(x_i, y_j) < ry_j.
    """

    y_in_x_balls: torch.Tensor
    x_ball_nonempty: torch.Tensor
    x_in_some_y_ball: torch.Tensor


def ball_counts(x: torch.Tensor, y: torch.Tensor, rx2: torch.Tensor, ry2: torch.Tensor) -> BallCounts:
    """Exact cross terms of precision/recall/density/coverage in one pass over float64 distance blocks,
    given the squared radii ``rx2`` (of X's balls) and ``ry2`` (of Y's).

    Entries whose Gram-expansion squared distance lies within its round-off bound of either radius squared
    are recomputed by direct differences, so every comparison is exact. Memory: one block, never N x M.
    """
    device = x.device
    mean = float64_mean(x)

    def centred(z: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        return z[start:stop].to(torch.float64) - mean  # per block: no float64 copy of a whole set

    xn, yn = row_sq_norms(x, shift=mean), row_sq_norms(y, shift=mean)
    rx2, ry2 = rx2.to(torch.float64), ry2.to(torch.float64)
    rel = roundoff_bound(x.shape[1], torch.float64)
    counts = torch.zeros(len(y), dtype=torch.int64, device=device)
    nonempty = torch.zeros(len(x), dtype=torch.bool, device=device)
    covered = torch.zeros(len(x), dtype=torch.bool, device=device)
    x_step = max(1, min(len(x), ROW_CHUNK))
    y_step = max(1, min(BLOCK_ELEMENTS // x_step, BLOCK_ELEMENTS // max(x.shape[1], 1)))
    with torch.inference_mode():
        for xs in range(0, len(x), x_step):
            xe = min(len(x), xs + x_step)
            for ys in range(0, len(y), y_step):
                ye = min(len(y), ys + y_step)
                d2 = torch.mm(centred(x, xs, xe), centred(y, ys, ye).T).mul_(-2.0)
                d2 += xn[xs:xe, None]
                d2 += yn[None, ys:ye]
                # round-off is at most rel * (|x_i|^2 + |y_j|^2) <= the block's per-row / per-column maximum
                sx = rel * (xn[xs:xe] + yn[ys:ye].max())
                sy = rel * (yn[ys:ye] + xn[xs:xe].max())
                in_x = d2 < (rx2[xs:xe] - sx)[:, None]
                in_y = d2 < (ry2[ys:ye] - sy)[None, :]
                unsure = (d2 < (rx2[xs:xe] + sx)[:, None]) != in_x
                unsure |= (d2 < (ry2[ys:ye] + sy)[None, :]) != in_y
                r, c = torch.nonzero(unsure, as_tuple=True)
                if len(r):
                    exact = exact_sq_distances(x, y, r + xs, c + ys)
                    in_x[r, c] = exact < rx2[r + xs]
                    in_y[r, c] = exact < ry2[c + ys]
                counts[ys:ye] += in_x.sum(0)
                nonempty[xs:xe] |= in_x.any(1)
                covered[xs:xe] |= in_y.any(1)
    return BallCounts(counts, nonempty, covered)


@dataclass
class Pairs:
    """The closest pairs i < j of a point set, nearest first: ``first``, ``second`` (int64), ``distances`` (float64)."""

    first: torch.Tensor
    second: torch.Tensor
    distances: torch.Tensor


def nearest_pairs(x: torch.Tensor, m: int, *, backend: str = "auto") -> Pairs:
    """The ``m`` closest pairs among the rows of ``x`` (Euclidean), exactly, in O(N·m) memory.

    Every pair of the global top m has its second point among the first point's m nearest neighbours
    (fewer than m pairs are closer), so the exact m-NN lists hold them all; pairs are ordered by
    (distance, i, j). Ties at the m-th distance are broken deterministically, the same on every backend.
    """
    if len(x) < 2:
        raise GanEvalError(f"nearest pairs: need at least 2 samples, got {len(x)}")
    return pairs_from_neighbours(knn(x, x, min(m, len(x) - 1), exclude_self=True, backend=backend), m)


def pairs_from_neighbours(nb: Neighbours, m: int) -> Pairs:
    """The ``m`` closest pairs from exact self-neighbour lists of at least m neighbours each (or all points)."""
    n = len(nb.indices)
    m = min(m, n * (n - 1) // 2)
    rows = torch.arange(n, device=nb.indices.device)[:, None].expand_as(nb.indices)
    i, j = torch.minimum(rows, nb.indices).reshape(-1), torch.maximum(rows, nb.indices).reshape(-1)
    key, inverse = torch.unique(i * n + j, return_inverse=True)
    dist = torch.empty(len(key), dtype=torch.float64, device=key.device).scatter_(0, inverse, nb.distances.reshape(-1))
    order = torch.sort(dist, stable=True).indices[:m]  # unique keys ascend, so ties go to the smaller (i, j)
    key = key[order]
    return Pairs(key // n, key % n, dist[order])
