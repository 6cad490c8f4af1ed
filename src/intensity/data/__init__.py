"""Datasets for training what we fold: generated game text, image folders, CIFAR, video frames,
and the folded grouping of images (seed 000 5.1, App. A)."""
