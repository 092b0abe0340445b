"""Stage 3, compile: a resolved pack → a :class:`engine.compile.pack.CompiledPack` — formulas
parsed once (and validated by :mod:`engine.validate`), the dependency graph, the proofs of the
checks, and formulas expanded down to inputs for lineage."""
