"""quadtui — watch a small neural network learn y = x², live, in a terminal."""

__version__ = "0.1.0"
