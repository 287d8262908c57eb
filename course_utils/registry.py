"""Collects the declarations that each lesson module lists (exercises, mistakes) into one dict by name."""
from __future__ import annotations

import importlib
from typing import Any


def collect(package: str, modules: tuple[str, ...], attribute: str, key: str) -> dict[str, Any]:
    """Import ``package.<module>`` for each module and index the items of its ``attribute`` by ``key``."""
    registry: dict[str, Any] = {}
    for module_name in modules:
        module = importlib.import_module(f"{package}.{module_name}")
        for item in getattr(module, attribute):
            name = getattr(item, key)
            if name in registry:
                raise RuntimeError(f"{name!r} is declared twice in {package}")
            registry[name] = item
    return registry
