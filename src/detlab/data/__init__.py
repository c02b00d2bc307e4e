"""Datasets on disk: format readers and writers, validation, synthetic data (NumPy-based)."""
