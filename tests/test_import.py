"""Every module imports with only the core dependencies installed (optional extras stay lazy)."""

from __future__ import annotations

import importlib
import pkgutil

import objectix_edge


def test_every_module_imports() -> None:
    names = [
        m.name
        for m in pkgutil.walk_packages(objectix_edge.__path__, "objectix_edge.")
        if not m.name.endswith("__main__")
    ]
    assert len(names) > 10
    for name in names:
        importlib.import_module(name)
