"""Evaluation backends. Today one runs in process: :mod:`.numpy_backend` computes metrics as
NumPy operations over ``[groups × periods]`` frames and is the reference that every SQL
rendering (:mod:`engine.evaluate.measures.metrics`) is tested against."""
