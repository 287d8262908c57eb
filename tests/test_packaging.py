"""Install files agree: pyproject.toml and environment.yml list the same dependencies; everything is pinned."""
import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return dict(_split(r) for r in requirements)


def conda_requirements() -> dict[str, str]:
    found, in_dependencies = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_dependencies = True
        elif in_dependencies and re.match(r"^  (    )?- [A-Za-z]", line):  # conda's, then pip's (PyPI only)
            name, spec = _split(line.split("#")[0].strip()[2:])
            spec = re.sub(r"^=(?!=)", "==", spec)  # conda's "=1.2" is pip's "==1.2"
            if name not in NOT_PACKAGES:
                found[CONDA_TO_PIP.get(name, name)] = spec
    return found


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_constraints_pin_every_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for name in pyproject_requirements():
        assert name in pins, f"{name} is not pinned in constraints.txt (run `make lock`)"
    assert pins["nbval"] == "0.11.0"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme and "--nbval-lax" in readme


def test_lab_settings_the_course_writes_are_valid_for_the_pinned_jupyterlab():
    """Each default `make prepare` writes names a setting of the installed JupyterLab, with an allowed value."""
    import sys

    import jsonschema

    from course_utils.prepare import LAB_OVERRIDES

    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in LAB_OVERRIDES.items():
        package, name = plugin.split(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        assert set(values) <= set(schema["properties"]), f"{plugin}: no setting {set(values) - set(schema['properties'])}"
        jsonschema.validate(values, schema)
    # The kernel status says Busy while a cell runs only with comms off subshells (tests/test_browser.py shows it).
    assert LAB_OVERRIDES["@jupyterlab/apputils-extension:kernels-settings"]["commsOverSubshells"] == "disabled"
