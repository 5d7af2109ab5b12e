"""Shared numerics used by several metrics, one module each (``knn``, ``kmeans``, ``row_minimise``); import from
the modules (``from gan_eval.ops.knn import knn``)."""
