"""Evaluation backends. They share one small interface; the in-process NumPy backend is the
reference that every SQL rendering is tested against.

    run(frame, metrics, formulas, graph, params) -> context   # fills frame.columns
    value(context, expression) -> array                        # any expression over the frame
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from engine.evaluate.frame import Frame


class Backend(Protocol):
    name: str

    def run(
        self,
        frame: Frame,
        metrics: Sequence[str],
        formulas: Mapping[str, Any],
        graph: Any,
        params: Mapping[str, float],
    ) -> Any: ...

    def value(self, ctx: Any, expr: Any) -> Any: ...
