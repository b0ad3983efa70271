"""The pipeline module builds its definition offline, with the expected steps."""

from pathlib import Path

import pytest
from modelbuild.definition.build import build_definition

PIPELINE_FILE = Path(__file__).resolve().parents[1] / "pipelines" / "{{ cookiecutter.pipeline_name }}" / "pipeline.py"
NAME = "{{ cookiecutter.pipeline_name | camel_case }}"
EXPECTED_STEPS = {
    f"Preprocess{NAME}Data": "Processing",
    f"Train{NAME}Model": "Training",
    f"Evaluate{NAME}Model": "Processing",
    f"CheckMSE{NAME}Evaluation": "Condition",
    f"Register{NAME}Model": "RegisterModel",
    f"Create{NAME}Model": "Model",
    f"Transform{NAME}Test": "Transform",
    f"MSE{NAME}ThresholdExceeded": "Fail",
}


def step_types(steps):
    """Name -> type of every step, the condition's branches included."""
    found = {}
    for step in steps:
        found[step["Name"]] = step["Type"]
        for branch in ("IfSteps", "ElseSteps"):
            found.update(step_types(step.get("Arguments", {}).get(branch, [])))
    return found


@pytest.fixture(scope="module")
def built():
    """The definition, built once offline from the module setup.cfg names (no --module-name)."""
    return build_definition(kwargs={"region": "{{ cookiecutter.aws_region }}"})


def test_the_project_builds_its_own_pipeline_module(built):
    assert built.module == "pipelines.{{ cookiecutter.pipeline_name }}.pipeline"
    assert Path(built.module_file) == PIPELINE_FILE


def test_definition_has_the_expected_steps(built):
    assert step_types(built.definition["Steps"]) == EXPECTED_STEPS


def test_definition_declares_the_mse_threshold_parameter(built):
    assert "MseThreshold" in {parameter["Name"] for parameter in built.definition["Parameters"]}
