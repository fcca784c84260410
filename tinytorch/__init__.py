"tinytorch: a small, readable, PyTorch-shaped deep-learning framework, built one notebook at a time."
__version__ = "0.1.0"
