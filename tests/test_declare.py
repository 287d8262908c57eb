"""Declarations by decorator: name and lesson come from the function, an id declared twice fails at import, answers
must name a declared exercise of their own lesson, and re-running a declaration (a reloaded module) is harmless."""
import copy
import importlib
import sys
import types

import pytest

from course_utils.lessons.declare import DECLARED, DeclarationError, Declarations
from course_utils.registry import all_exercises, build_exercises

LESSON06 = "course_utils.lessons.lesson06"


def _in_module(module: str, source: str, table: Declarations) -> types.SimpleNamespace:
    """Run ``source`` as if it were written in ``module``, with the table's decorators in scope."""
    namespace = {"__name__": module, "exercise": table.exercise, "wrong_answer": table.wrong_answer,
                 "alternative": table.alternative}
    exec(compile(source, f"<{module}>", "exec"), namespace)
    return types.SimpleNamespace(**namespace)


SOURCE = '''
@exercise(task="count", check=lambda answer: None, hints=("a", "b"))
def counter(model):
    return 1

@wrong_answer("counter")
def counted_twice(model):
    return 2

@wrong_answer("counter", "off_by_one")
def counter_plus_one(model):
    return 2

@alternative("counter")
def counter_again(model):
    return 1
'''


def test_name_lesson_and_ids_come_from_the_declarations():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    exercise = build_exercises(table)["counter"]
    assert exercise.lesson == "06_freezing" and exercise.task == "count" and exercise.hints == ("a", "b")
    assert list(exercise.wrong_answers) == ["counted_twice", "off_by_one"]
    assert [a.__name__ for a in exercise.alternatives] == ["counter_again"] and exercise.solution(None) == 1


def test_a_mistake_id_declared_twice_fails_at_import():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    with pytest.raises(DeclarationError, match="'off_by_one' of 'counter' is declared twice"):
        _in_module(f"{LESSON06}.answers", '@wrong_answer("counter", "off_by_one")\ndef other(model):\n    return 3\n',
                   table)


def test_an_exercise_declared_twice_fails_at_import():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    with pytest.raises(DeclarationError, match="exercise 'counter' is declared twice"):
        _in_module(f"{LESSON06}.answers", '@exercise(task="t", check=print, hints=())\ndef counter(m):\n    return 0\n',
                   table)


def test_running_the_same_declarations_again_replaces_them():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    exercise = build_exercises(table)["counter"]
    assert len(exercise.wrong_answers) == 2 and len(exercise.alternatives) == 1


def test_an_answer_to_an_unknown_exercise_is_refused_with_the_valid_names():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    _in_module(f"{LESSON06}.answers", '@wrong_answer("countr")\ndef typo(model):\n    return 0\n', table)
    with pytest.raises(DeclarationError, match="'countr', which no @exercise declares; declared exercises: counter"):
        build_exercises(table)


def test_an_answer_must_live_in_its_exercises_lesson():
    table = Declarations()
    _in_module(f"{LESSON06}.exercises", SOURCE, table)
    _in_module("course_utils.lessons.lesson07.answers", '@alternative("counter")\ndef elsewhere(m):\n    return 1\n',
               table)
    with pytest.raises(DeclarationError, match="declare it in that lesson's package"):
        build_exercises(table)


def test_an_exercise_outside_a_lesson_package_is_refused():
    with pytest.raises(LookupError, match="not inside a lesson package"):
        _in_module("somewhere.else", SOURCE, Declarations())


@pytest.fixture
def restored_lesson06_answers():
    """Put the module's functions and the declarations back afterwards: a reloaded module holds new function
    objects, which later checks in this process would (rightly) report as course_utils replaced under them."""
    module = importlib.import_module(f"{LESSON06}.answers")
    functions, tables = dict(vars(module)), copy.deepcopy(vars(DECLARED))
    yield module
    vars(module).clear()
    vars(module).update(functions)
    vars(DECLARED).update(tables)


def test_reloading_a_lesson_module_keeps_the_declarations_valid(restored_lesson06_answers):
    before = {name: set(e.wrong_answers) for name, e in all_exercises().items()}
    importlib.reload(restored_lesson06_answers)
    rebuilt = build_exercises(DECLARED)
    assert {name: set(e.wrong_answers) for name, e in rebuilt.items()} == before
    assert rebuilt["count_trainable"].wrong_answers["counted_tensors"] is sys.modules[f"{LESSON06}.answers"].counted_tensors
