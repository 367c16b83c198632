"""Bounds every layer checks its inputs against: the data commands and the scales accept the same seeds and sizes."""

MAX_IMAGE_SIZE = 1024
MAX_SEED = 2**31 - 1  # NumPy, TensorFlow and Keras all accept seeds in 0..2**31-1 (numpy's legacy seed: < 2**32)
