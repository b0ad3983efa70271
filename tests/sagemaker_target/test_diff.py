"""`diff_with_deployed` against the moto server: nothing after an upsert, the step after a code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pipelines.abalone
from modelbuild.sagemaker_target.run import diff_with_deployed, run_on_sagemaker
from tests.sagemaker_target.conftest import ROLE_ARN

MODULE = "pipelines.abalone.pipeline"


def test_a_pipeline_not_deployed_yet_is_all_added(clients, cached_builds):
    name, diff, _ = diff_with_deployed(MODULE, {}, ROLE_ARN)

    assert name == "AbalonePipeline"
    assert diff.changed and not diff.deployed
    assert {step.kind for step in diff.steps} == {"added"}


def test_after_an_upsert_there_is_no_change(clients, cached_builds):
    run_on_sagemaker(MODULE, {}, ROLE_ARN)

    _, diff, _ = diff_with_deployed(MODULE, {}, ROLE_ARN)

    assert not diff.changed, diff.lines()


def test_after_a_code_change_the_step_running_that_code_is_reported(clients, cached_builds, tmp_path, monkeypatch):
    # A copy of the reference pipeline to edit (the SDK hashes the code's path with its content,
    # so the copy is deployed first).
    copy = tmp_path / "changed_abalone"
    shutil.copytree(Path(pipelines.abalone.__file__).parent, copy)
    monkeypatch.syspath_prepend(str(tmp_path))
    run_on_sagemaker("changed_abalone.pipeline", {}, ROLE_ARN)
    (copy / "preprocess.py").write_text((copy / "preprocess.py").read_text() + "\n# changed\n")

    _, diff, _ = diff_with_deployed("changed_abalone.pipeline", {}, ROLE_ARN)

    assert [(step.name, step.kind) for step in diff.steps] == [("PreprocessAbaloneData", "changed")]
    (change,) = diff.steps[0].changes
    assert change.path.startswith("Arguments.ProcessingInputs[") and change.path.endswith(".S3Input.S3Uri")
    assert change.old.endswith("/preprocess.py") and change.new.endswith("/preprocess.py")


def test_another_role_is_reported(clients, cached_builds):
    run_on_sagemaker(MODULE, {"role": ROLE_ARN}, ROLE_ARN)
    other = ROLE_ARN.replace("PipelineRole", "OtherRole")

    _, diff, _ = diff_with_deployed(MODULE, {"role": ROLE_ARN}, other)

    assert [(change.path, change.old, change.new) for change in diff.pipeline] == [("RoleArn", ROLE_ARN, other)]
    assert diff.steps == ()


def test_a_definition_file_is_compared_with_the_pipeline_it_names(clients, cached_builds, tmp_path):
    from modelbuild.definition.build import build_definition
    from modelbuild.sagemaker_target.run import sagemaker_kwargs

    run_on_sagemaker(MODULE, {}, ROLE_ARN)
    built = build_definition(MODULE, sagemaker_kwargs(MODULE, {}, ROLE_ARN, clients.region))
    (tmp_path / "AbalonePipeline.json").write_text(built.text)

    name, diff, module_file = diff_with_deployed(None, {}, ROLE_ARN, definition_file=tmp_path / "AbalonePipeline.json")

    assert (name, module_file) == ("AbalonePipeline", None)
    assert not diff.changed, diff.lines()
