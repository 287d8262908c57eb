"""The checker contract, for every exercise: the reference and the notebook solution pass, the untouched stub
is not attempted, every declared mistake is named by a mutant, and differently written answers pass.

Each lesson's test module supplies the answers as data: ANSWERS = {name: (mutants by mistake id, alternatives)}.
"""
import pytest

import test_lesson01_exercises
import test_lesson02_exercises
import test_lesson03_exercises
import test_lesson04_exercises
from course_utils import check_exercise
from course_utils.exercises import all_exercises
from helpers import assert_mistake, assert_passes, solution_from_notebook, stub

ANSWERS = {}
for module in (test_lesson01_exercises, test_lesson02_exercises, test_lesson03_exercises, test_lesson04_exercises):
    ANSWERS.update(module.ANSWERS)

MUTANTS = [(name, mistake) for name, (mutants, _) in ANSWERS.items() for mistake in sorted(mutants)]
ALTERNATIVES = [(name, i) for name, (_, alternatives) in ANSWERS.items() for i in range(len(alternatives))]


def test_every_exercise_has_answers_for_its_contract():
    assert set(ANSWERS) == set(all_exercises())
    for name, (_, alternatives) in ANSWERS.items():
        assert len(alternatives) >= 2, f"{name}: at least two differently written correct answers"


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_every_declared_mistake_has_a_mutant(name):
    assert set(all_exercises()[name].mistakes) == set(ANSWERS[name][0])


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_reference_and_notebook_solutions_pass(name):
    assert_passes(name, all_exercises()[name].solution)
    assert_passes(name, solution_from_notebook(name))


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_untouched_stub_is_not_attempted(name):
    result = check_exercise(name, stub(name))
    assert result.status == "not_attempted" and not result.passed and result.mistake is None


@pytest.mark.parametrize("name, mistake", MUTANTS, ids=[f"{n}-{m}" for n, m in MUTANTS])
def test_mistake_is_named(name, mistake):
    assert_mistake(name, ANSWERS[name][0][mistake], mistake)


@pytest.mark.parametrize("name, index", ALTERNATIVES, ids=[f"{n}-{i}" for n, i in ALTERNATIVES])
def test_alternative_answer_passes(name, index):
    assert_passes(name, ANSWERS[name][1][index])
