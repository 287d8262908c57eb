"""`course list`: every lesson's exercises and the mistakes show_symptom can show, read from the registries."""
from __future__ import annotations

from ..lessons import LESSONS
from ..registry import all_exercises, all_mistakes, scripted_mistakes


def listing() -> str:
    """The text `course list` prints: per lesson, each exercise with its task, then its catalogue entries."""
    exercises, mistakes, scripted = all_exercises(), all_mistakes(), scripted_mistakes()
    lines = []
    for lesson in LESSONS:
        lines.append(f"{lesson.slug}  {lesson.title}")
        for exercise in (e for e in exercises.values() if e.lesson == lesson.slug):
            lines.append(f"  exercise {exercise.name}: {exercise.task}")
            named = ", ".join(exercise.wrong_answers)
            lines.append(f"      mistakes its checker names: {named}")
        entries = [m for m in mistakes.values() if m.lesson == lesson.slug and m.id in scripted]
        if entries:
            lines.append("  catalogue: " + ", ".join(m.id for m in entries))
    lines += ["", f"{len(exercises)} exercises, {len(mistakes)} mistake ids ({len(scripted)} with a scripted, measured "
              "entry); in a notebook: check_exercise(\"name\"), hint(\"name\"), show_symptom(\"mistake_id\")."]
    return "\n".join(lines)


def run_list() -> int:
    print(listing())
    return 0
