"""Backends of a plan's steps (:mod:`engine.evaluate.steps`). In process:
:mod:`.numpy_steps` executes them over cells and ``[groups × periods]`` frames, computing metrics
with :mod:`.numpy_backend` (formulas as NumPy operations); it is the reference every SQL
rendering (:class:`engine.evaluate.measures.metrics.SqlBackend`) is tested against."""
