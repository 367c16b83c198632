"""tl-claims: checks what a transfer-learning lesson claims against what actually happens."""

import os

# TensorFlow's C++ start-up chatter buries the results table; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
