"""tr(sqrt(S1 S2)) for symmetric positive semi-definite S1, S2: the cross term of the Fréchet distance.

S1 S2 is not symmetric, but it is similar to the symmetric PSD matrix M = sqrt(S1) S2 sqrt(S1)
(S1 S2 = sqrt(S1) M sqrt(S1)^-1 where S1 is invertible, and by continuity otherwise), so its eigenvalues are
M's, real and >= 0, and tr(sqrt(S1 S2)) = sum_i sqrt(lambda_i(M)). The same holds for L^T S2 L with the
Cholesky factor S1 = L L^T, which is used when S1 is positive definite (a Cholesky costs a fraction of an
``eigh``); for a singular S1 = V diag(w) V^T the same is done with V_r diag(sqrt(w_r)) over its r eigenvalues
above round-off, so the second eigendecomposition is only r x r (r < n when n samples are fewer than dimensions). Symmetric eigendecompositions in float64
replace ``scipy.linalg.sqrtm`` (a Schur-based general square root: slow, and its
``disp`` argument is gone from new scipy) and never call ``eigvals`` on the non-symmetric product (CUDA's
``torch.linalg.eig`` is very slow). Eigenvalues below zero are round-off and clamped to 0, so singular
(rank-deficient, n < dim) covariances are handled without the ``eps * I`` offset pytorch-fid falls back to.

Proven by ``tests/test_fid.py::test_sqrtm_trace_matches_scipy_sqrtm``: equal to scipy's sqrtm-based trace on
random SPD and rank-deficient pairs to 1e-6 relative.
"""
from __future__ import annotations

import torch


def sqrtm_trace(sigma1: torch.Tensor, sigma2: torch.Tensor) -> torch.Tensor:
    """tr(sqrt(sigma1 @ sigma2)) in float64 on the inputs' device (a 0-d tensor)."""
    s1 = sigma1.to(torch.float64)
    s2 = sigma2.to(s1.device, torch.float64)
    s1 = (s1 + s1.T) / 2
    factor, info = torch.linalg.cholesky_ex(s1)
    if int(info) == 0:
        middle = factor.T @ s2 @ factor
    else:
        # Singular S1 = V diag(w) V^T: only its range matters, so work in the r columns with w > round-off.
        values, vectors = torch.linalg.eigh(s1)
        keep = values > values.max().clamp_min(0) * len(values) * torch.finfo(torch.float64).eps
        half = vectors[:, keep] * values[keep].sqrt()
        middle = half.T @ s2 @ half
    return torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
