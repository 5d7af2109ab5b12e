"""Helpers of tests/test_torchmetrics_integration.py, and the program each torchrun rank runs there: the rank
updates gan-eval's torchmetrics wrappers with its contiguous share of the data, ``compute`` syncs them over the
gloo group, and rank 0 prints the values as JSON."""
from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import torch

OPTIONS: dict[str, dict[str, Any]] = {
    "fid": {"features": "pixels"},
    "kid": {"features": "pixels", "subset_size": 20, "subsets": 4},
    "prdc": {"features": "pixels", "k": 3},
    "modes": {"reference": "ring8"},
}


def import_torchmetrics() -> Any:
    """torchmetrics, imported without torchvision: this venv holds torch-fidelity (a peer the tests compare
    against) but no torchvision, which the tests stub; torchmetrics then sees torch-fidelity and imports it,
    and probes torchvision with ``find_spec``, which a stub without a spec fails. With torch-fidelity loaded
    under the stub first, and torchvision hidden while torchmetrics probes, it loads as where neither is set up."""
    if "torchmetrics" in sys.modules:
        return sys.modules["torchmetrics"]
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        from conftest import stub_torchvision

        stub_torchvision()
        try:
            import torch_fidelity  # noqa: F401
        except ImportError:
            pass
    hidden = {k: m for k, m in sys.modules.items() if k == "torchvision" or k.startswith("torchvision.")}
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import torchmetrics
    finally:
        for name in hidden:
            del sys.modules[name]
        sys.modules.update(hidden)
    return torchmetrics


def data(metric: str) -> tuple[torch.Tensor | None, torch.Tensor]:
    """(real, fake) for ``metric``: 3 x 6 x 6 images in [0, 1], or 2-D points near the ring8 mixture."""
    rng = np.random.default_rng(7)
    if metric == "modes":  # on the mixture, and a few points off it (not high quality)
        from gan_eval.references import get_reference

        return None, torch.cat([get_reference("ring8").sample(190, seed=7), torch.from_numpy(rng.normal(0, 0.3, (13, 2)))])
    real = torch.from_numpy(rng.random((70, 3, 6, 6), dtype=np.float32))
    return real, torch.from_numpy(rng.random((61, 3, 6, 6), dtype=np.float32) ** 2)


def main() -> None:
    import torch.distributed as dist

    import_torchmetrics()
    from gan_eval.integrations.torchmetrics import GanEvalMetric

    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    out = {}
    for metric, options in OPTIONS.items():
        wrapped = GanEvalMetric(metric, value_range="0,1" if metric != "modes" else "auto", seed=3, **options)
        real, fake = data(metric)
        share = lambda x: None if x is None else x.tensor_split(size)[rank]  # contiguous: cat is rank-major
        wrapped.update(real=share(real), fake=share(fake))
        out[metric] = wrapped.compute().values
    if rank == 0:
        print(json.dumps(out))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
