"""Datasets: built-in (shipped or generated), torchvision, uploads."""
