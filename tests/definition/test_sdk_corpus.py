"""No false positives: what the pinned SDK writes validates clean, and a fault planted in it is found.

Each module of sdk_corpus/ builds one pipeline per construct with the real SDK, offline (the project's
own build machinery, no network): Tuning with get_top_model_s3_uri, @step functions (Std:JsonGet in
its S3Uri form), ModelTrainer with SourceCode, FrameworkProcessor, Lambda, Callback, QualityCheck,
ClarifyCheck, EMR, every condition type (Not inside Or as SDK v3 writes it), both Std:JsonGet forms,
every parameter type and the execution variables. ModelStep create and register, Transform and Fail
are the reference pipeline's (tests/definition/test_validate.py). The SDK 3.27 cannot build an
AutoMLStep (it checks for `Session.auto_ml`, which the SDK no longer has), so its step is written here
as `AutoMLStep.arguments` would return it: a CreateAutoMLJob request in ENSEMBLING mode.
"""

from __future__ import annotations

import copy
import functools
import gc
import re
import warnings
from pathlib import Path

import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.dsl import read_definition
from modelbuild.definition.project import Project
from modelbuild.definition.service_model import property_names
from modelbuild.definition.validate import validate_definition
from tests.definition.conftest import ROLE_ARN

CORPUS = Path(__file__).parent / "sdk_corpus"
MODULES = sorted(path.stem for path in CORPUS.glob("corpus_*.py"))


@functools.cache
def _built(module: str):
    # ModelTrainer's SourceCode packaging leaves a TemporaryDirectory for the garbage collector to remove,
    # which warns (the SDK's leak, not ours): collect it here, with that one warning ignored. A LambdaStep
    # given only a function ARN warns that it will not update the function: that is the point.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("ignore", "Lambda function won't be updated", UserWarning)
        built = build_definition(module, {"region": "us-east-1", "role": ROLE_ARN}, project=Project(CORPUS))
        gc.collect()
    return built


def built(module: str) -> dict:
    """The module's definition, built once per session; a fresh copy each call."""
    return copy.deepcopy(_built(module).definition)


def automl_pipeline() -> dict:
    """An AutoML step as AutoMLStep.arguments returns it, and a Model step reading its best candidate."""
    bucket = "s3://sagemaker-us-east-1-000000000000"
    best = "Steps.AutoML.BestCandidate.InferenceContainers[0]"
    return {
        "Version": "2020-12-01", "Metadata": {}, "Parameters": [],
        "Steps": [
            {"Name": "AutoML", "Type": "AutoML", "Arguments": {
                "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                     "S3Uri": f"{bucket}/data/train.csv"}},
                                     "TargetAttributeName": "rings", "ChannelType": "training"}],
                "OutputDataConfig": {"S3OutputPath": f"{bucket}/automl"},
                "AutoMLJobConfig": {"Mode": "ENSEMBLING",
                                    "CompletionCriteria": {"MaxCandidates": 2}},
                "RoleArn": ROLE_ARN,
            }},
            {"Name": "BestModel", "Type": "Model", "Arguments": {
                "ExecutionRoleArn": ROLE_ARN,
                "PrimaryContainer": {"Image": {"Get": f"{best}.Image"}, "ModelDataUrl": {"Get": f"{best}.ModelDataUrl"},
                                     "Environment": {"REPORT": {"Get": "Steps.AutoML.BestCandidateProperties."
                                                                       "ModelInsightsJsonReportPath"}}},
            }},
        ],
    }


@pytest.mark.parametrize("module", MODULES)
def test_what_the_sdk_writes_validates_clean_for_both_targets(module):
    definition = built(module)

    assert validate_definition(definition) == []
    assert validate_definition(definition, target="sagemaker", role_arn=ROLE_ARN) == []


def test_an_automl_step_and_its_best_candidate_validate_clean():
    assert validate_definition(automl_pipeline(), target="sagemaker", role_arn=ROLE_ARN) == []


def test_the_corpus_covers_every_construct_of_the_issue():
    types, conditions, json_gets, parameters = set(), set(), set(), set()
    for module in MODULES:
        spec = read_definition(built(module))
        types |= {step.type for step in spec.steps.values()}
        parameters |= {parameter.type for parameter in spec.parameters.values()}
        for step in spec.steps.values():
            conditions |= {condition["Type"] for _, condition in step.conditions}
            json_gets |= {"PropertyFile" if g.property_file else "S3Uri" for g in step.json_gets}

    assert types >= {"Processing", "Training", "Tuning", "Condition", "Fail", "Lambda", "Callback", "QualityCheck",
                     "ClarifyCheck", "EMR"}
    assert conditions == {"Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "In",
                          "Not", "Or"}
    assert json_gets == {"PropertyFile", "S3Uri"}
    assert parameters == {"String", "Integer", "Float", "Boolean"}


# -- one planted fault per rule, in what the SDK wrote -------------------------------------------------------------

def step_of(definition: dict, name: str) -> dict:
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop()
        if step["Name"] == name:
            return step
        pending += step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", [])
    raise KeyError(name)


def _channel_source(definition: dict, step: str) -> dict:
    return step_of(definition, step)["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]


def _rename_output_read(d):
    _channel_source(d, "Again")["S3Uri"]["Get"] = _channel_source(d, "Again")["S3Uri"]["Get"].replace(
        "['train']", "['training']")


def _tuning_summary_misspelled(d):
    values = _channel_source(d, "Retrain")["S3Uri"]["Std:Join"]["Values"]
    values[3]["Get"] = "Steps.Tune.TrainingJobSummary[0].TrainingJobName"


def _undeclared_lambda_output(d):
    step_of(d, "Wait")["Arguments"]["answer"]["Get"] = "Steps.Ask.OutputParameters['anwser']"


def _json_get_without_source(d):
    condition = step_of(d, "Good")["Arguments"]["Conditions"][0]
    del condition["LeftValue"]["Std:JsonGet"]["S3Uri"]


def _not_of_an_unknown_type(d):
    negated = step_of(d, "Check")["Arguments"]["Conditions"][2]["Conditions"][0]
    negated["Condition"]["Type"] = "Equal"


def _emr_property_misspelled(d):
    step_of(d, "Report")["Arguments"]["ErrorMessage"]["Std:Join"]["Values"][0]["Get"] = "Steps.SparkOnCluster.Staus"


def _check_property_misspelled(d):
    values = step_of(d, "Report")["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    values[4]["Get"] = "Steps.DataBias.CalculatedBaselineStatistics"


def _property_file_path_unreadable(d):
    step_of(d, "Check")["Arguments"]["Conditions"][0]["LeftValue"]["Std:JsonGet"]["Path"] = "scores[0.value"


FAULTS = {
    "output name the producing step does not declare": (
        "corpus_code", _rename_output_read, "Again", "Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri",
        r"no item named 'training'; Did you mean 'train'\?",
    ),
    "Tuning property misspelled": (
        "corpus_tuning", _tuning_summary_misspelled, "Retrain",
        "Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri.Std:Join.Values[3]",
        r"no property 'TrainingJobSummary'; Did you mean 'TrainingJobSummaries'\?",
    ),
    "Lambda output the step does not declare": (
        "corpus_lambda_callback", _undeclared_lambda_output, "Wait", "Arguments.answer",
        r"no output 'anwser'; Did you mean 'answer'\?",
    ),
    "Std:JsonGet with neither PropertyFile nor S3Uri": (
        "corpus_functions", _json_get_without_source, "Good", "Arguments.Conditions[0].LeftValue.Std:JsonGet",
        "neither",
    ),
    "Not around an unknown condition type": (
        "corpus_conditions", _not_of_an_unknown_type, "Check", "Arguments.Conditions[2].Conditions[0].Condition.Type",
        r"unknown condition type 'Equal'; Did you mean 'Equals'\?",
    ),
    "EMR property misspelled": (
        "corpus_emr", _emr_property_misspelled, "Report", "Arguments.ErrorMessage.Std:Join.Values[0]",
        r"EMR has no property 'Staus'; Did you mean 'Status'\?",
    ),
    "ClarifyCheck property only QualityCheck has": (
        "corpus_checks", _check_property_misspelled, "Report", "Arguments.ErrorMessage.Std:Join.Values[4]",
        "ClarifyCheck has no property 'CalculatedBaselineStatistics'",
    ),
    "Std:JsonGet Path that is no property path": (
        "corpus_conditions", _property_file_path_unreadable, "Check",
        "Arguments.Conditions[0].LeftValue.Std:JsonGet.Path", "cannot read property path",
    ),
}


@pytest.mark.parametrize("module, plant, step, path, message", FAULTS.values(), ids=FAULTS.keys())
def test_a_fault_planted_in_what_the_sdk_writes_is_found(module, plant, step, path, message):
    definition = built(module)
    plant(definition)

    problems = validate_definition(definition)

    assert len(problems) == 1, problems
    assert (problems[0].step, problems[0].path) == (step, path), problems[0]
    assert re.search(message, problems[0].message), problems[0].message


def test_a_suggestion_is_a_property_of_the_step_referenced():
    definition = built("corpus_checks")
    _check_property_misspelled(definition)

    (problem,) = validate_definition(definition)

    # CalculatedBaselineStatistics is a QualityCheck property; a ClarifyCheck step has the constraints only.
    suggested = re.search(r"Did you mean '(\w+)'", problem.message).group(1)
    assert suggested in property_names(read_definition(definition).steps["DataBias"])
    assert suggested == "CalculatedBaselineConstraints"
