"""The pipeline module builds its definition offline, with the expected steps."""

from pipelines.definition.build import build_definition

MODULE = "pipelines.{{ cookiecutter.pipeline_name }}.pipeline"
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


def test_definition_has_the_expected_steps():
    built = build_definition(MODULE, {"region": "{{ cookiecutter.aws_region }}"})

    assert step_types(built.definition["Steps"]) == EXPECTED_STEPS


def test_definition_declares_the_mse_threshold_parameter():
    built = build_definition(MODULE, {"region": "{{ cookiecutter.aws_region }}"})

    assert "MseThreshold" in {parameter["Name"] for parameter in built.definition["Parameters"]}
