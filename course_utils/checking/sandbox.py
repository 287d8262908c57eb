"""Calling learner code: exceptions turned into plain text, faults attributed, inputs guarded against mutation."""
from __future__ import annotations

import contextlib
import linecache
import sys
import traceback
from pathlib import Path
from types import FunctionType, TracebackType
from typing import Any, Callable, Iterator

import torch

from ..paths import is_library_file
from . import integrity
from .integrity import Tampered
from .state import clean_check_state
from .timelimit import TimeLimitExceeded, limit_expired



class NotAttempted(Exception):
    """The answer is still the untouched starter code."""


class Mismatch(Exception):
    """The answer ran but behaved wrongly; carries what was expected, what happened and what to try."""

    def __init__(self, expected: str, got: str, advice: str, mistake: str | None = None):
        super().__init__(got)
        self.expected, self.got, self.advice, self.mistake = expected, got, advice, mistake


class LearnerError(Exception):
    """An exception raised by the learner's code, already turned into plain text (never the live object)."""

    def __init__(self, kind: str, text: str, learner_line: str | None, original: BaseException | None = None):
        super().__init__(f"{kind}: {text}" if text else kind)
        self.kind, self.text, self.learner_line = kind, text, learner_line
        self.original_type = type(original) if original is not None else None
        self.original_text = text  # explanation patterns match against this


def type_name(value: Any) -> str:
    """The class name of ``value``, read without calling anything the value's class defines."""
    cls = type(value)
    name = type.__dict__["__name__"].__get__(cls)
    return name if isinstance(name, str) else "object"


def safe_str(value: Any, limit: int = 300) -> str:
    """str(value) for text in a message; an object whose __str__ fails is described instead."""
    try:
        text = str(value)
        if type(text) is not str:
            raise TypeError("__str__ returned a non-string")
    except (TimeLimitExceeded, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001  (the learner's object failed, however it failed)
        return f"<{type_name(value)} object whose str() raised {type_name(exc)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"



def learner_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    return [frame for frame in traceback.extract_tb(tb) if not is_library_file(frame.filename)]


def learner_caused(exc: BaseException) -> bool:
    """True when the learner's code took part: a frame of theirs in the traceback, or their own exception class."""
    return bool(learner_frames(exc.__traceback__)) or _defined_by_learner(type(exc))


def _defined_by_learner(cls: type) -> bool:
    module_name = type.__dict__["__module__"].__get__(cls) if "__module__" in cls.__dict__ else "builtins"
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if module is None or module_name == "__main__":
        return True
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and not is_library_file(str(Path(filename).resolve()))


def find_learner_line(tb: TracebackType | None, answer: Callable | None = None) -> str | None:
    """'line N of name: code' for the deepest traceback line written by the learner, if any."""
    frames = learner_frames(tb)
    if not frames:
        return None
    found = frames[-1]
    text = (found.line or linecache.getline(found.filename, found.lineno)).strip()
    code = answer.__code__ if type(answer) is FunctionType else None
    if code is not None and found.filename == code.co_filename and found.name == code.co_name:
        where = f"line {found.lineno - code.co_firstlineno + 1} of {found.name}"
    else:
        where = f"{found.name}, line {found.lineno}" if found.name != "<module>" else f"line {found.lineno}"
    return f"{where}: {text}" if text else where


def learner_error(exc: BaseException, answer: Callable | None = None) -> LearnerError:
    """Turn a live exception from learner code into a LearnerError holding only text."""
    return LearnerError(type_name(exc), safe_str(exc), find_learner_line(exc.__traceback__, answer), exc)


def _raised_by_stub(exc: NotImplementedError, answer: Callable) -> bool:
    """The untouched starter code: the answer's own body raised it with the stub's message (or none), not
    PyTorch on its behalf, nor the learner's own "not supported" branch."""
    frames = traceback.extract_tb(exc.__traceback__)
    code = answer.__code__ if type(answer) is FunctionType else None
    text = safe_str(exc)
    placeholder = not text or (text.startswith("Write ") and "check_exercise" in text)
    return placeholder and bool(frames) and code is not None and frames[-1].filename == code.co_filename \
        and frames[-1].name == code.co_name


_watch: list[tuple[tuple[int, int], bool, dict]] = []  # modes, inference mode, global hooks when the check began


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """Around a check: every learner call is followed by a look for patches and modes left switched on."""
    _watch.append((integrity.mode_depths(), torch.is_inference_mode_enabled(), integrity.global_hooks()))
    try:
        yield
    finally:
        _watch.pop()


def verify_untouched() -> None:
    """Raise Tampered if the session's libraries were patched or a PyTorch mode was left on (and pop it)."""
    names = integrity.changed_names()
    if _watch:
        depths, inference, hooks = _watch[-1]
        names += integrity.leftover_modes(depths, inference) + integrity.leftover_hooks(hooks)
    if names:
        raise Tampered(names)


def call_learner(answer: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call learner code; everything it raises (but Ctrl-C and the time limit) becomes NotAttempted or LearnerError."""
    try:
        return answer(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except TimeLimitExceeded as exc:
        if limit_expired():
            raise
        raise learner_error(exc, answer) from None  # raised by the answer itself, not by the time limit
    except NotImplementedError as exc:
        if _raised_by_stub(exc, answer):
            raise NotAttempted(safe_str(exc)) from None
        raise learner_error(exc, answer) from None
    except BaseException as exc:  # noqa: BLE001  (SystemExit, GeneratorExit, custom BaseExceptions: all the answer's)
        raise learner_error(exc, answer) from None
    finally:
        clean_check_state()  # whatever the answer switched (grad mode, default device), the checker goes on clean
        verify_untouched()
