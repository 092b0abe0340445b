"""Shared by the hostile-formula tests of formula mode and measure mode."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def no_side_effects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty directory with eval/exec/compile/os.system booby-trapped."""

    def trap(name: str) -> Callable[..., object]:
        def refuse(*args: object, **kwargs: object) -> object:
            raise AssertionError(f"{name} was called while parsing a formula")
        return refuse

    monkeypatch.chdir(tmp_path)
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, trap(name))
    monkeypatch.setattr(os, "system", trap("os.system"))
    yield tmp_path
    assert list(tmp_path.iterdir()) == []
