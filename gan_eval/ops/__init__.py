"""Shared numerics, one module each: ``knn`` (exact k-NN, nearest pairs, ball counts; FAISS or torch) and
``kmeans`` (seeded k-means). Import from the modules (``from gan_eval.ops.knn import knn``)."""
