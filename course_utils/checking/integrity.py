"""Notice when code in the session has patched torch, NumPy, builtins or course_utils itself.

A check compares with torch.equal, torch.allclose, Tensor methods and its own helpers; if an
answer replaced one of them, any verdict could be false. Each watched namespace is recorded the
first time a check sees it; later checks compare every recorded entry by identity.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Iterator

import torch

# Modules whose functions and classes the checks rely on; every loaded course_utils module is added.
WATCHED_MODULES = (
    "builtins", "math", "operator", "copy", "inspect", "numpy", "numpy.random", "torch", "torch.nn", "torch.nn.functional",
    "torch.nn.init", "torch.optim", "torch.utils.data", "torchvision.transforms", "torchvision.transforms.functional",
    "torchvision.datasets", "torchvision.models", "PIL.Image", "signal", "time", "threading", "random", "gc",
)
_PACKAGE = __name__.split(".")[0]
# Replaced in normal use: IPython's last result and per-cell input function, warning registries, torch.Storage
# (it follows torch.set_default_dtype), and hooks that the saved state puts back after every check.
_SESSION_KEYS = frozenset({"_", "__", "___", "input", "raw_input", "__warningregistry__", "__builtins__",
                           "Storage", "excepthook", "unraisablehook"})
_baseline: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {}


class Tampered(BaseException):
    """The session's PyTorch, NumPy or course_utils changed under the check (a BaseException: answers can't catch it)."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


_module_of = type.__dict__["__module__"].__get__  # read without any metaclass property getting a say
_dict_of = type.__dict__["__dict__"].__get__


def _module_classes(module: ModuleType) -> Iterator[type]:
    top = module.__name__.split(".")[0]
    for value in list(vars(module).values()):
        if isinstance(value, type):  # type(value) is a metaclass: no __class__ property can lie here
            try:
                name = _module_of(value)
            except Exception:  # noqa: BLE001  (a hostile metaclass: treat as foreign)
                continue
            if isinstance(name, str) and name.startswith(top):
                yield value


_walked: tuple[int, list[tuple[str, Any]]] = (-1, [])


def _namespaces() -> list[tuple[str, Any]]:
    """(label, object) for every watched module and class; walked again only when modules were imported."""
    global _walked
    if _walked[0] != len(sys.modules):
        _walked = (len(sys.modules), list(_walk()))
    return _walked[1]


def _walk() -> Iterator[tuple[str, Any]]:
    names = list(WATCHED_MODULES) + sorted(n for n in list(sys.modules) if n == _PACKAGE or n.startswith(_PACKAGE + "."))
    seen: set[int] = set()
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        yield name, module
        if name in ("builtins", "math", "operator", "copy", "inspect", "signal", "time", "threading", "random", "gc"):
            continue  # their functions are watched; their classes are not the checkers' concern
        for cls in _module_classes(module):
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            label = f"{_module_of(cls)}.{type.__dict__['__qualname__'].__get__(cls)}"
            yield label, cls
            if label.startswith("torch"):
                for base in type.__dict__["__mro__"].__get__(cls)[1:]:  # Tensor's methods live on TensorBase
                    if _module_of(base).startswith("torch") and id(base) not in seen:
                        seen.add(id(base))
                        yield f"{_module_of(base)}.{base.__qualname__}", base


def _live(owner: Any):
    """The namespace's own mapping, read without copying (and without a metaclass getting a say)."""
    return _dict_of(owner) if isinstance(owner, type) else vars(owner)


def _record(owner: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    entries = dict(_live(owner))
    # a function whose code object was swapped keeps its identity: watch each function's code too
    codes = {k: v.__code__ for k, v in entries.items() if type(v) is FunctionType}
    return owner, entries, codes


def changed_names() -> list[str]:
    """Names that were replaced, removed or (on a class) added since first seen; records new namespaces."""
    changed, missing = [], object()  # a sentinel no namespace can hold
    for label, owner in _namespaces():
        recorded = _baseline.get(label)
        try:
            if recorded is None or recorded[0] is not owner:
                _baseline[label] = _record(owner)
                continue
            _, before, codes = recorded
            live = _live(owner)
            for key, value in before.items():
                now = live.get(key, missing)
                if now is missing:
                    changed.append(f"{label}.{key} (removed)")
                elif now is not value and not _benign(key, value, now):
                    changed.append(f"{label}.{key}")
            for key, code in codes.items():
                function = live.get(key)
                if function is before[key] and function.__code__ is not code:
                    changed.append(f"{label}.{key}.__code__")
            if isinstance(owner, type) and len(live) != len(before):
                changed += [f"{label}.{key} (added)" for key in live
                            if key not in before and not _cache_key(key) and not _hooked_step(owner, key, live[key])]
        except Exception:  # noqa: BLE001  (a namespace that cannot even be read has been tampered with)
            changed.append(f"{label} (unreadable)")
    return changed


def _cache_key(key: str) -> bool:
    return key.startswith("_abc_") or key in ("__annotations__", "__slotnames__", "__weakref__", "__dict__")


_TORCH_DIR = str(Path(torch.__file__).resolve().parent)


def _unwrapped(function: Any) -> Any:
    """Follow the chain of wrappers PyTorch put around a function back to the original."""
    while type(function) is FunctionType and function.__code__.co_filename.startswith(_TORCH_DIR) \
            and getattr(function, "__wrapped__", None) is not None:
        function = function.__wrapped__
    return function


def _torch_wrapper(old: Any, new: Any) -> bool:
    """PyTorch wrapping its own function (torch.optim's step profiling hook, torch._dynamo's wrappers, added on
    first use): functions written in torch's own files, around the same original."""
    return (type(new) is FunctionType and new is not old and getattr(new, "__wrapped__", None) is not None
            and new.__code__.co_filename.startswith(_TORCH_DIR) and _unwrapped(new) is _unwrapped(old))


def _hooked_step(owner: type, key: str, value: Any) -> bool:
    """A wrapper PyTorch added to a class around a method the class inherits."""
    inherited = next((base.__dict__[key] for base in type.__dict__["__mro__"].__get__(owner)[1:] if key in base.__dict__),
                     None)
    return inherited is not None and _torch_wrapper(inherited, value)


def _benign(key: str, old: Any, new: Any) -> bool:
    """Changes that happen in normal use: private caches and counters, IPython's per-cell names, torch's wrappers."""
    if _cache_key(key) or key in _SESSION_KEYS or _torch_wrapper(old, new):
        return True
    return key.startswith("_") and type(old) not in (FunctionType, type)


def describe_changes(names: list[str]) -> str:
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (f"Something in this session has replaced or left switched on {shown}. The checker compares answers "
            f"with these, so it "
            f"cannot give a verdict it trusts. Restart the kernel (Kernel → Restart Kernel), run your cells again "
            f"without patching PyTorch or course_utils, then check again.")


def mode_depths() -> tuple[int, int]:
    """How many torch-function and dispatch modes are active (nothing the course does leaves one on)."""
    return torch._C._len_torch_function_stack(), torch._C._len_torch_dispatch_stack()  # noqa: SLF001


_GLOBAL_HOOKS = ("_global_backward_pre_hooks", "_global_backward_hooks", "_global_forward_pre_hooks",
                 "_global_forward_hooks", "_global_forward_hooks_always_called", "_global_module_registration_hooks",
                 "_global_parameter_registration_hooks", "_global_buffer_registration_hooks")


def global_hooks() -> dict[str, tuple]:
    """The keys of torch.nn's global module hooks (register_module_forward_hook and friends), per kind."""
    from torch.nn.modules import module
    return {name: tuple(getattr(module, name, {})) for name in _GLOBAL_HOOKS}


def leftover_hooks(before: dict[str, tuple]) -> list[str]:
    """Global module hooks added since ``before``, removed again; names for the report."""
    from torch.nn.modules import module
    left = []
    for name, keys in global_hooks().items():
        for key in [k for k in keys if k not in before.get(name, ())]:
            getattr(module, name).pop(key, None)
            left.append(f"a global module hook ({name.strip('_').replace('global_', '')})")
    return left


def leftover_modes(depths: tuple[int, int], inference: bool) -> list[str]:
    """Modes entered since ``depths`` was taken, popped again; names for the report (empty if none)."""
    left = []
    function_depth, dispatch_depth = mode_depths()
    for _ in range(function_depth - depths[0]):
        left.append(f"a TorchFunctionMode ({type(torch._C._pop_torch_function_stack()).__name__})")  # noqa: SLF001
    for _ in range(dispatch_depth - depths[1]):
        left.append(f"a TorchDispatchMode ({type(torch._C._pop_torch_dispatch_stack()).__name__})")  # noqa: SLF001
    if torch.is_inference_mode_enabled() and not inference:
        left.append("torch.inference_mode() (entered and never exited)")
    return left
