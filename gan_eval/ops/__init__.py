"""Shared numerics: exact k-NN (FAISS or torch) and radius-ball counts."""
from gan_eval.ops.knn import BallCounts, Neighbours, Pairs, ball_counts, knn, kth_neighbour_radii, nearest_pairs

__all__ = ["BallCounts", "Neighbours", "Pairs", "ball_counts", "knn", "kth_neighbour_radii", "nearest_pairs"]
