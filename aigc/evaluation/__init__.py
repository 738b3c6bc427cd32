"""Metrics and judges of generated samples."""
