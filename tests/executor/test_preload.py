"""Preloading before an in-place build: every kaniko module and the lazily used ones."""

from __future__ import annotations

import sys

from kaniko.executor.preload import LAZY_MODULES, kaniko_modules, preload


def test_every_kaniko_module_but_main_modules_is_listed() -> None:
    names = kaniko_modules()
    assert "kaniko.executor.inplace" in names and "kaniko.sandbox.inplace" in names
    assert "kaniko.registry.transport" in names and "kaniko.fs.unpack" in names
    assert not [name for name in names if name.endswith("__main__")]
    assert len(names) > 80


def test_preload_imports_them_and_the_lazy_ones() -> None:
    count = preload()
    assert count >= len(kaniko_modules())
    for name in ("encodings.idna", "stringprep", "kaniko.cli.progress", "httpx", "zstandard"):
        assert name in sys.modules
    assert "encodings.idna" in LAZY_MODULES
