"""gan-eval's streaming metrics as ``torchmetrics.Metric`` subclasses, so Lightning users get DDP sync
(optional extra: ``pip install "gan-eval[torchmetrics]"``):

>>> fid = GanEvalMetric("fid", device="cuda", value="fid")   # doctest: +SKIP
>>> fid.update(real=real, fake=fake)                          # doctest: +SKIP
>>> self.log("fid", fid)                                      # doctest: +SKIP

One generic wrapper over :class:`~gan_eval.streaming.StreamingMetric`: every tensor of its :meth:`state` becomes a
torchmetrics state with the reduction the metric declares, ``dist_reduce_fx="sum"`` for sum statistics (Gaussian
moments, mode histograms, row counts) and ``"cat"`` for gathered banks (features, images), so torchmetrics' sync
is exactly :mod:`gan_eval.stats.dist`'s reduction and ``compute`` runs the registered metric on the synced state
(the stream's own reduction is then skipped). A sum statistic whose shape comes from the first batch (moments of
``pixels`` features) is registered at that batch; every rank must then have seen one before ``compute``.
``forward`` only updates: a set metric (FID, PRDC...) of one batch means nothing.
"""
from __future__ import annotations

from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics import MetricResult
from gan_eval.streaming import REDUCTIONS, StreamingMetric

try:
    import torchmetrics
except ImportError:  # an optional extra: say how to get it, in one line
    raise GanEvalError('gan_eval.integrations.torchmetrics needs torchmetrics; pip install "gan-eval[torchmetrics]"') from None


class GanEvalMetric(torchmetrics.Metric):
    """A registered gan-eval metric (any that :mod:`gan_eval.streaming` streams) as a torchmetrics metric.
    ``value``: return that headline number from ``compute()`` as a float64 tensor (what ``self.log`` takes)
    instead of the whole :class:`~gan_eval.metrics.MetricResult`. ``metric_kwargs``: torchmetrics' own options
    (``sync_on_compute``, ``process_group``...); the other keywords are :class:`StreamingMetric`'s."""

    full_state_update = False

    def __init__(self, metric: str, features: Any = None, *, value: str | None = None, metric_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**(metric_kwargs or {}))
        self.stream = StreamingMetric(metric, features, **kwargs)
        self.value = value
        self._register()

    def _register(self) -> None:
        """Add a state for each tensor of the stream that has none yet (all at construction, but shapes set by
        the first batch)."""
        for name, (value, reduction) in self.stream.state().items():
            if name not in self._defaults:
                default = [] if reduction == "gather" else torch.zeros_like(value)
                self.add_state(name, default=default, dist_reduce_fx=REDUCTIONS[reduction])

    def update(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        """:meth:`StreamingMetric.update`, on this metric's states."""
        self.stream.load_state({name: getattr(self, name) for name in self._defaults})
        self.stream.update(real=real, fake=fake)
        self._register()
        for name, (value, _) in self.stream.state().items():
            setattr(self, name, list(value) if isinstance(value, list) else value)

    def compute(self) -> MetricResult | torch.Tensor:
        """The metric on the (synced) states: torchmetrics has reduced them over the ranks already."""
        self.stream.load_state({name: getattr(self, name) for name in self._defaults})
        result = self.stream.compute(over_ranks=False)
        return result if self.value is None else torch.tensor(float(result[self.value]), dtype=torch.float64)

    def reset(self) -> None:
        super().reset()
        self.stream.reset(real=True)  # and forget the value ranges inferred from first batches

    def forward(self, *args: Any, **kwargs: Any) -> None:
        self.update(*args, **kwargs)
