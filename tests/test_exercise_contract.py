"""The checker contract, for every registered exercise: the reference and the notebook solution pass, the untouched
stub is not attempted, each wrong answer it declares is named with its mistake id, and every alternative passes.
Everything is read from the registry: a new lesson's exercises are tested without touching this file."""
import ast
import inspect
import re
import types
from pathlib import Path

import pytest

from course_utils import check_exercise
from course_utils.lessons import LESSONS, lesson_modules, lesson_of
from course_utils.registry import all_exercises, scripted_mistakes
from helpers import ROOT, assert_mistake, assert_passes, solution_from_notebook, stub

EXERCISES = sorted(all_exercises())
BROKEN = [(name, mistake) for name in EXERCISES for mistake in all_exercises()[name].wrong_answers]
VARIANTS = [(name, mistake, answer) for name in EXERCISES for mistake, answer in all_exercises()[name].variants]
ALTERNATIVES = [(name, i) for name in EXERCISES for i in range(len(all_exercises()[name].alternatives))]


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_declares_wrong_and_alternative_answers(name):
    exercise = all_exercises()[name]
    assert exercise.wrong_answers, f"{name}: no wrong answers declared"
    assert len(exercise.alternatives) >= 2, f"{name}: at least two differently written correct answers"
    for answer in exercise.wrong_answers.values():  # shown by show_symptom, so a real def (or class) with source
        assert isinstance(answer, (types.FunctionType, type)) and answer.__name__ != "<lambda>"
        inspect.getsource(answer)


@pytest.mark.parametrize("name", EXERCISES)
def test_checker_docstring_lists_its_inputs_and_every_mistake_it_names(name):
    exercise = all_exercises()[name]
    doc = inspect.getdoc(exercise.check) or ""
    assert doc.startswith(f"Judge {name} "), f"{exercise.check.__qualname__}: the docstring says what {name} is run on"
    names = re.search(r"^Names: (.*?)(?:\n\n|\Z)", doc, re.S | re.M)
    assert names and set(re.findall(r"`(\w+)`", names.group(1))) == set(exercise.wrong_answers)


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_and_notebook_solutions_pass(name):
    assert_passes(name, all_exercises()[name].solution)
    assert_passes(name, solution_from_notebook(name))


@pytest.mark.parametrize("name", EXERCISES)
def test_untouched_stub_is_not_attempted(name):
    result = check_exercise(name, stub(name))
    assert result.status == "not_attempted" and not result.passed and result.mistake is None


@pytest.mark.parametrize("name, mistake", BROKEN, ids=[f"{n}-{m}" for n, m in BROKEN])
def test_mistake_is_named(name, mistake):
    assert_mistake(name, all_exercises()[name].wrong_answers[mistake], mistake)


@pytest.mark.parametrize("name, mistake, answer", VARIANTS, ids=[f"{n}-{a.__name__}" for n, _, a in VARIANTS])
def test_another_way_of_committing_the_mistake_is_named(name, mistake, answer):
    assert_mistake(name, answer, mistake)


@pytest.mark.parametrize("name, mistake", BROKEN, ids=[f"{n}-{m}" for n, m in BROKEN])
def test_every_named_mistake_is_committed_three_ways(name, mistake):
    ways = 1 + sum(m == mistake for m, _ in all_exercises()[name].variants)
    assert ways >= 3, f"{name}: {mistake} has {ways} wrong answer(s); declare more with @same_mistake"


@pytest.mark.parametrize("name, index", ALTERNATIVES, ids=[f"{n}-{i}" for n, i in ALTERNATIVES])
def test_alternative_answer_passes(name, index):
    assert_passes(name, all_exercises()[name].alternatives[index])


def _named_in_source(path: Path) -> set[str]:
    """Mistake ids a checker module can name: the 4th argument (or mistake=) of every Mismatch(...) call."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Mismatch":
            args = node.args[3:4] + [k.value for k in node.keywords if k.arg == "mistake"]
            named |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return named


@pytest.mark.parametrize("module", list(lesson_modules("exercises")), ids=lambda m: m.__name__)
def test_every_mistake_a_checker_can_name_is_declared(module):
    lesson = lesson_of(module.__name__)
    declared = {m for exercise in all_exercises().values() if exercise.lesson == lesson for m in exercise.wrong_answers}
    files = [p for p in Path(module.__file__).parent.rglob("*.py")
             if p.name not in ("answers.py", "variants.py", "mistakes.py")]
    assert set().union(*map(_named_in_source, files)) <= declared


def test_each_exercise_and_mistake_belongs_to_a_real_lesson_notebook():
    slugs = {lesson.slug for lesson in LESSONS}
    assert slugs == {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}, "LESSONS and notebooks/ differ"
    for exercise in all_exercises().values():
        assert exercise.lesson in slugs and (ROOT / "solutions" / f"{exercise.lesson}.ipynb").is_file()
    for mistake in scripted_mistakes().values():
        assert mistake.lesson in slugs and Path(ROOT / "notebooks" / f"{mistake.lesson}.ipynb").is_file()
