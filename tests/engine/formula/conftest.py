"""Shared by the hostile-formula tests of formula mode and measure mode."""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def no_side_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], contextlib.AbstractContextManager[None]]]:
    """In an empty directory, a context manager that booby-traps eval/exec/compile/os.system
    while a formula is parsed. Armed only inside the ``with`` block: pytest itself compiles
    source (to show a failure) and Python compiles a module imported for the first time."""

    def trap(name: str) -> Callable[..., object]:
        def refuse(*args: object, **kwargs: object) -> object:
            raise AssertionError(f"{name} was called while parsing a formula")

        return refuse

    @contextlib.contextmanager
    def armed() -> Iterator[None]:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("eval", "exec", "compile"):
                mp.setattr(builtins, name, trap(name))
            mp.setattr(os, "system", trap("os.system"))
            yield

    monkeypatch.chdir(tmp_path)
    yield armed
    assert list(tmp_path.iterdir()) == []
