"""objectix-edge: take vision models from PyTorch to an edge camera, with parity proofs at every step."""

__version__ = "0.1.0"
