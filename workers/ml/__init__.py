"""Machine-learning code: plain dataclasses and paths in, no Django."""
