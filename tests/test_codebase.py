"""The shape of the code: small files, dependencies pointing down and no cycles, `course list` in step with the registries."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.registry import all_exercises, all_mistakes

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
FILES = sorted(PACKAGE.rglob("*.py"))

# Every top-level module and package of course_utils, in layers: a module may import only modules of lower layers
# (and its own package's files). The pipeline reads upward: data, then models, then training. A new module or
# package must be placed here, which says what it may use.
LAYERS = [
    {"paths", "runtime", "display", "plots"},  # foundations: no other course_utils imports
    {"data", "notebook"},                      # data: generated shapes, your own folders, the messy folder, imbalance
    {"models", "checking"},                    # heads, pretrained weights, the course backbone, cached features
    {"training", "catalogue"},                 # the loop, strategies, the recipe, comparison, evaluation, results
    {"prepare", "lessons", "tools"},           # tools: the maintainers' notebook execution and exercise generation
    {"registry"},
    {"api", "preflight"},
    {"cli"},
    {"__main__", "__init__"},
]
TOP_LEVEL_MODULES = 10  # SPEC section 2: a few top-level modules; the rest lives in packages by pipeline stage
RANK = {module: rank for rank, layer in enumerate(LAYERS) for module in layer}


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


def _top(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_module_has_a_layer():
    assert {_top(p) for p in FILES} == set(RANK), "place new modules in LAYERS (and drop removed ones)"


def test_the_package_is_laid_out_by_pipeline_stage():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(modules) <= TOP_LEVEL_MODULES, f"{len(modules)} top-level modules: put new ones in a stage's package"
    for stage in ("data", "models", "training", "tools", "checking", "catalogue", "lessons", "preflight", "cli"):
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file() and ast.get_docstring(ast.parse(init.read_text())), f"{stage}/__init__.py: say what it holds"


@pytest.mark.parametrize("path", [p for p in FILES if p.relative_to(PACKAGE).parts[0] != "tools"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_learners_import_uses_the_maintainers_tools(path):
    assert "tools" not in _imported_parts(path), "tools/ is for maintainers: nothing else in course_utils imports it"


def test_importing_the_package_or_the_command_loads_no_maintainers_tool():
    code = ("import sys, course_utils, course_utils.cli, course_utils.api, course_utils.preflight\n"
            "from course_utils import check_exercise, hint, solution, show_symptom, run_symptom, preflight\n"
            "print(sorted(m for m in sys.modules if m.startswith('course_utils.tools')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_point_down(path):
    own = _top(path)
    upward = {part for part in _imported_parts(path) - {own} if RANK.get(part, len(LAYERS)) >= RANK[own]}
    assert not upward, f"{own} (layer {RANK[own]}) imports {sorted(upward)} from its own layer or above"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path, modules: set[str]) -> set[str]:
    """The course_utils modules ``path`` imports, anywhere in it (lazy imports included), as dotted names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found |= {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules} | {target}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in modules and m != name}


def test_no_import_cycle():
    modules = {_module_name(p): p for p in FILES}
    graph = {name: _imports_of(path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(target):], target]))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("path", [p for p in FILES if p.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_entry_point_imports_the_command_line(path):
    assert "cli" not in _imported_parts(path), "the `course` command sits on top: nothing in the package imports it"


def test_course_list_names_every_exercise_and_catalogue_entry():
    from course_utils.cli.listing import listing

    shown = listing()
    for name in all_exercises():
        assert f"exercise {name}:" in shown
    for mistake in all_mistakes():
        assert re.search(rf"\b{mistake}\b", shown), mistake
    assert "`course list`" in (ROOT / "README.md").read_text(), "the README points learners to `course list`"
