"""Experiments run on top of the training entry points (see each module)."""
