"""The shape of the code: small files, dependencies pointing one way, README lists in step with the registries."""
import ast
import re
from pathlib import Path

import pytest

from course_utils.registry import all_exercises, scripted_mistakes

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
FILES = sorted(PACKAGE.rglob("*.py"))

# Each layer may import only from the layers listed for it (besides itself and the helpers outside these).
LAYERS = {
    "checking": {"checking", "display"},
    "catalogue": {"catalogue", "checking", "display", "images"},
    "lessons": {"lessons", "catalogue", "checking", "display", "images", "data", "pretrained", "shapes"},
}


def _imported_parts(path: Path) -> set[str]:
    """First component under course_utils of every course_utils module ``path`` imports."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            else:
                target = (node.module or "").split(".")
            if target[:1] == ["course_utils"]:
                parts = target[1:] or [alias.name for alias in node.names]
                found |= {parts[0]} if target[1:] else set(parts)
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("course_utils.")}
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_package_file_over_300_lines(path):
    assert len(path.read_text().splitlines()) <= 300


@pytest.mark.parametrize("path", [p for p in FILES if p.relative_to(PACKAGE).parts[0] in LAYERS],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_point_one_way(path):
    layer = path.relative_to(PACKAGE).parts[0]
    assert _imported_parts(path) <= LAYERS[layer], f"{layer} may only import {sorted(LAYERS[layer])}"


@pytest.mark.parametrize("path", [p for p in FILES if p.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_entry_point_imports_the_command_line(path):
    assert "cli" not in _imported_parts(path), "the `course` command sits on top: nothing in the package imports it"


def _readme_list(marker: str) -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = re.search(rf"<!-- {marker} -->(.*?)<!-- /{marker} -->", text, re.S)
    assert section, f"README has no <!-- {marker} --> section"
    return set(re.findall(r"`([a-z0-9_]+)`", section.group(1)))


def test_readme_lists_every_exercise_and_catalogue_entry():
    assert _readme_list("exercises") == set(all_exercises())
    assert _readme_list("mistakes") == set(scripted_mistakes())
