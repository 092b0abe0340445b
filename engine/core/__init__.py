"""The shared vocabulary of every stage: the exception tree, problem codes, the pack model,
periods and grains, character rules for ids and cells, rounding and the display of numbers.

Nothing here imports a pipeline stage (load, validate, compile, evaluate, render).
"""
