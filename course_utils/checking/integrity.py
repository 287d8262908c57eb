"""Notice when code in the session has patched torch, NumPy, builtins or course_utils itself.

A check compares with torch.equal, torch.allclose, Tensor methods and its own helpers; if an
answer replaced one of them, any verdict could be false. Each watched namespace is recorded the
first time a check sees it; later checks compare every recorded entry by identity.
"""
from __future__ import annotations

import inspect
import sys
from types import ModuleType
from typing import Any, Iterator

# Modules whose functions and classes the checks rely on; every loaded course_utils module is added.
WATCHED_MODULES = (
    "builtins", "math", "operator", "copy", "inspect", "numpy", "torch", "torch.nn", "torch.nn.functional",
    "torch.nn.init", "torch.optim", "torch.utils.data", "torchvision.transforms", "torchvision.transforms.functional",
    "torchvision.datasets", "torchvision.models", "PIL.Image",
)
_PACKAGE = __name__.split(".")[0]
# Replaced in normal use: IPython's last result and per-cell input function, warning registries, torch.Storage.
_SESSION_KEYS = frozenset({"_", "__", "___", "input", "raw_input", "__warningregistry__", "__builtins__",
                           "Storage"})  # torch.Storage follows torch.set_default_dtype
_baseline: dict[str, tuple[Any, dict[str, Any]]] = {}


def _module_classes(module: ModuleType) -> Iterator[type]:
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", "").startswith(module.__name__.split(".")[0]):
            yield value


def _namespaces() -> Iterator[tuple[str, Any]]:
    """(label, object) for every module and class whose attributes are watched."""
    names = list(WATCHED_MODULES) + sorted(n for n in list(sys.modules) if n == _PACKAGE or n.startswith(_PACKAGE + "."))
    seen: set[int] = set()
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        yield name, module
        if name in ("builtins", "math", "operator", "copy", "inspect"):
            continue
        for cls in _module_classes(module):
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            yield f"{cls.__module__}.{cls.__qualname__}", cls
            if cls.__module__.startswith("torch"):
                for base in cls.__mro__[1:]:  # torch.Tensor's methods live on torch._C.TensorBase
                    if base.__module__.startswith("torch") and id(base) not in seen:
                        seen.add(id(base))
                        yield f"{base.__module__}.{base.__qualname__}", base


def _entries(owner: Any) -> dict[str, Any]:
    return dict(vars(owner))


def changed_names() -> list[str]:
    """Names that were replaced, removed or (on a class) added since first seen; records new namespaces."""
    changed = []
    for label, owner in _namespaces():
        recorded = _baseline.get(label)
        current = _entries(owner)
        if recorded is None or recorded[0] is not owner:
            _baseline[label] = (owner, current)
            continue
        before = recorded[1]
        for key, value in before.items():
            if key not in current:
                changed.append(f"{label}.{key} (removed)")
            elif current[key] is not value and not _benign(key, value, current[key]):
                changed.append(f"{label}.{key}")
        if inspect.isclass(owner):
            changed += [f"{label}.{key} (added)" for key in current if key not in before and not _cache_key(key)]
    return changed


def _cache_key(key: str) -> bool:
    return key.startswith("_abc_") or key in ("__annotations__", "__slotnames__", "__weakref__", "__dict__")


def _benign(key: str, old: Any, new: Any) -> bool:
    """Changes that happen in normal use: caches, counters, lazily filled values (plain data, not code)."""
    if _cache_key(key) or key in _SESSION_KEYS:
        return True
    if key == "step" and getattr(new, "hooked", False) and getattr(new, "__wrapped__", None) is old:
        return True  # torch.optim wraps each optimizer class's step in a profiling hook on first use
    return not (callable(new) or callable(old) or isinstance(new, (property, staticmethod, classmethod)))


def describe_changes(names: list[str]) -> str:
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (f"Something in this session has replaced {shown}. The checker compares answers with these, so it "
            f"cannot give a verdict it trusts. Restart the kernel (Kernel → Restart Kernel), run your cells again "
            f"without patching PyTorch or course_utils, then check again.")
