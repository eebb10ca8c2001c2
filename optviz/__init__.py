"""optviz: see how PyTorch optimizers and learning-rate schedulers move."""

__version__ = "0.1.0"
