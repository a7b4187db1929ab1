"""Offline jobs: data, models, training loops, evaluation and the one export path (`training.export`)."""
