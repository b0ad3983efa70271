"""The SDK's own job drivers run unchanged inside the job's namespace: ModelTrainer + SourceCode (sm_drivers),
built from a user's project with the real SDK and run by the local engine on small real data."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from modelbuild.local import isolation
from modelbuild.local.engine import PipelineSource, run_pipeline
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.store import ObjectStore
from tests.sagemaker_target.conftest import ROLE_ARN

needs_namespace = pytest.mark.skipif(isolation.namespace_problem() is not None,
                                     reason="the SDK's drivers need a private mount namespace")
TRAIN_ROWS = "".join(f"{2 * a + 3 * b + 1},{a},{b}\n" for a in range(10) for b in range(6))

MODEL_TRAINER = '''
import os

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")


def get_pipeline(region="us-east-1", role=None, default_bucket=None, sagemaker_session=None,
                 pipeline_name="ModelTrainerPipeline"):
    from sagemaker.core import image_uris
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, SourceCode

    image = image_uris.retrieve("sklearn", region=region, version="1.2-1", instance_type="ml.m5.large")
    trainer = ModelTrainer(training_image=image, role=role, sagemaker_session=sagemaker_session,
                           source_code=SourceCode(source_dir=SOURCE, entry_script="train.py"),
                           compute=Compute(instance_type="ml.m5.large", instance_count=1), base_job_name="fit")
    data = InputData(channel_name="train", data_source=f"s3://{default_bucket}/data/train.csv")
    step = TrainingStep(name="Fit", step_args=trainer.train(input_data_config=[data]))
    return Pipeline(name=pipeline_name, steps=[step], sagemaker_session=sagemaker_session)
'''

TRAIN_SCRIPT = '''
import json, os, pathlib, pickle
import numpy as np
from sklearn.linear_model import LinearRegression

train = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"])
rows = np.loadtxt(next(train.iterdir()), delimiter=",")
model = LinearRegression().fit(rows[:, 1:], rows[:, 0])
with open("/opt/ml/model/model.pkl", "wb") as stream:
    pickle.dump(model, stream)
pathlib.Path("/opt/ml/model/coef.json").write_text(json.dumps([round(c, 6) for c in model.coef_]))
'''


def make_project(root: Path, package: str, pipeline: str, files: dict[str, str]) -> Path:
    """A user's project: `<package>/pipeline.py` plus `files` (relative to the package)."""
    (root / package).mkdir(parents=True)
    (root / "setup.py").write_text('import setuptools\n\nsetuptools.setup(name="user-project")\n')
    (root / package / "__init__.py").write_text("")
    (root / package / "pipeline.py").write_text(textwrap.dedent(pipeline))
    for name, text in files.items():
        (root / package / name).parent.mkdir(parents=True, exist_ok=True)
        (root / package / name).write_text(textwrap.dedent(text))
    return root


def build(project: Path, module: str, state: Path, *options: str) -> str:
    """The definition `modelbuild get-definition` builds from the project (in its own process, as a user
    runs it; the SDK stays out of the test process), its code staged in the store below `state`."""
    done = subprocess.run([str(Path(sys.executable).parent / "modelbuild"), "get-definition", "-n", module,
                           "--kwargs", json.dumps({"default_bucket": "bkt", "region": "us-east-1"}),
                           "--state-dir", str(state), *options],
                          cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def build_and_run(project: Path, module: str, state: Path, **run_kwargs):
    text = build(project, module, state)
    store = ObjectStore(state / "s3")
    store.put_bytes("s3://bkt/data/train.csv", TRAIN_ROWS.encode())
    source = PipelineSource(text, "UserPipeline", "us-east-1")
    return source, run_pipeline(source, state_dir=state, max_parallel=1, **run_kwargs), store


@pytest.fixture
def model_trainer_project(tmp_path):
    return make_project(tmp_path / "project", "fit_project", MODEL_TRAINER, {"src/train.py": TRAIN_SCRIPT})


@pytest.mark.slow  # builds with the SDK
@needs_namespace
def test_model_trainer_source_code_runs_through_the_sdks_sm_drivers(model_trainer_project, tmp_path):
    _, record, store = build_and_run(model_trainer_project, "fit_project.pipeline", tmp_path / "state")

    assert record.status == "Succeeded", record.failure_reason
    artifact = record.steps[0].properties["ModelArtifacts"]["S3ModelArtifacts"]
    assert json.loads(model_member_of(store, artifact, "coef.json")) == [2.0, 3.0]
    assert pickle.loads(model_member_of(store, artifact, "model.pkl")).predict([[1, 1]])[0] == pytest.approx(6.0)
    assert "Running Basic Script driver" in Path(record.steps[0].log_path).read_text()


@pytest.mark.slow  # builds with the SDK
def test_model_trainer_source_code_is_refused_before_the_run_without_a_namespace(model_trainer_project, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")

    with pytest.raises(UnsupportedStepError, match="sm_drivers scripts, which need /opt/ml itself"):
        build_and_run(model_trainer_project, "fit_project.pipeline", tmp_path / "state")
    assert not (tmp_path / "state" / "jobs").exists()


def model_member_of(store: ObjectStore, uri: str, member: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(store.read_bytes(uri))) as archive:
        return archive.extractfile(member).read()


SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
FRAMEWORK_PROCESSOR = '''
import os

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")


def get_pipeline(region="us-east-1", role=None, default_bucket=None, sagemaker_session=None,
                 pipeline_name="FrameworkProcessorPipeline"):
    from sagemaker.core.processing import FrameworkProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = FrameworkProcessor(image_uri="IMAGE", role=role, instance_type="ml.m5.large", instance_count=1,
                                   sagemaker_session=sagemaker_session, base_job_name="count")
    data = ProcessingS3Input(s3_uri=f"s3://{default_bucket}/data/train.csv", local_path="/opt/ml/processing/input/data",
                             s3_data_type="S3Prefix", s3_input_mode="File")
    out = ProcessingS3Output(s3_uri=f"s3://{default_bucket}/counted", local_path="/opt/ml/processing/output",
                             s3_upload_mode="EndOfJob")
    args = processor.run(code="count.py", source_dir=SOURCE, arguments=["--factor", "3"],
                         inputs=[ProcessingInput(input_name="data", s3_input=data)],
                         outputs=[ProcessingOutput(output_name="out", s3_output=out)])
    return Pipeline(name=pipeline_name, steps=[ProcessingStep(name="Count", step_args=args)],
                    sagemaker_session=sagemaker_session)
'''.replace("IMAGE", SKLEARN_IMAGE)

COUNT_SCRIPT = '''
import argparse, pathlib
import helper  # a module of the source directory, beside the entry script

parser = argparse.ArgumentParser()
parser.add_argument("--factor", type=int)
rows = pathlib.Path("/opt/ml/processing/input/data/train.csv").read_text().splitlines()
pathlib.Path("/opt/ml/processing/output/count.txt").write_text(helper.scaled(len(rows), parser.parse_args().factor))
'''


@pytest.mark.slow  # builds with the SDK
@needs_namespace
def test_a_framework_processor_with_source_dir_and_requirements_runs_through_runproc(tmp_path):
    project = make_project(tmp_path / "project", "count_project", FRAMEWORK_PROCESSOR, {
        "src/count.py": COUNT_SCRIPT, "src/helper.py": "def scaled(n, k):\n    return str(n * k)\n",
        "src/requirements.txt": "scikit-learn\nnumpy>=1\n"})

    _, record, store = build_and_run(project, "count_project.pipeline", tmp_path / "state")

    assert record.status == "Succeeded", record.failure_reason
    assert store.read_bytes("s3://bkt/counted/count.txt") == b"180"
    log = Path(record.steps[0].log_path).read_text()
    assert "runproc.sh" in log and "every requirement is satisfied" in log
    assert "skipped 'pip uninstall --yes typing'" in log


FUNCTION_STEPS = '''
def get_pipeline(region="us-east-1", role=None, default_bucket=None, sagemaker_session=None,
                 pipeline_name="FunctionPipeline"):
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.function_step import step
    from sagemaker.mlops.workflow.pipeline import Pipeline

    @step(name="MakeNumbers", instance_type="ml.m5.large", image_uri="IMAGE", role=role)
    def make_numbers(n):
        return list(range(n))

    @step(name="Total", instance_type="ml.m5.large", image_uri="IMAGE", role=role)
    def total(numbers):
        return sum(numbers)

    result = total(make_numbers(5))
    check = ConditionStep(name="IsTen", conditions=[ConditionEquals(left=result, right=10)], if_steps=[],
                          else_steps=[FailStep(name="WrongTotal", error_message="the total is not 10")])
    return Pipeline(name=pipeline_name, steps=[check], sagemaker_session=sagemaker_session)
'''.replace("IMAGE", SKLEARN_IMAGE)


@pytest.mark.slow  # builds with the SDK, and each function step imports it in its job
@needs_namespace
def test_step_functions_pass_return_values_to_a_later_step_and_a_condition(tmp_path):
    project = make_project(tmp_path / "project", "function_project", FUNCTION_STEPS, {})

    _, record, store = build_and_run(project, "function_project.pipeline", tmp_path / "state")

    assert record.status == "Succeeded", record.failure_reason
    steps = {step.name: step for step in record.steps}
    assert steps["IsTen"].properties["Outcome"] is True and steps["WrongTotal"].status == "Skipped"
    results = steps["Total"].properties["OutputDataConfig"]["S3OutputPath"]
    assert json.loads(store.read_bytes(f"{results}/results.json"))["Result"] == 10
    assert "job_driver.sh" in Path(steps["MakeNumbers"].log_path).read_text()


@pytest.mark.slow  # builds with the SDK four times
def test_offline_builds_of_source_code_jobs_are_byte_identical(tmp_path):
    trainer = make_project(tmp_path / "trainer", "fit_project", MODEL_TRAINER, {"src/train.py": TRAIN_SCRIPT})
    processor = make_project(tmp_path / "processor", "count_project", FRAMEWORK_PROCESSOR, {
        "src/count.py": COUNT_SCRIPT, "src/helper.py": "def scaled(n, k):\n    return str(n * k)\n"})

    for project, module in ((trainer, "fit_project.pipeline"), (processor, "count_project.pipeline")):
        first = build(project, module, tmp_path / "first")
        for source in (project / module.split(".")[0] / "src").iterdir():
            source.touch()  # a new mtime, the same content
        second = build(project, module, tmp_path / "second", "--rebuild")
        assert first == second
        assert "2026" not in first and "2025" not in first  # no build time in any code prefix
    assert sorted(p.relative_to(tmp_path / "first") for p in (tmp_path / "first" / "s3").rglob("*") if p.is_file()) \
        == sorted(p.relative_to(tmp_path / "second") for p in (tmp_path / "second" / "s3").rglob("*") if p.is_file())


@pytest.mark.slow  # builds with the SDK twice
def test_offline_builds_of_step_functions_are_byte_identical(tmp_path):
    project = make_project(tmp_path / "project", "function_project", FUNCTION_STEPS, {})

    first = build(project, "function_project.pipeline", tmp_path / "first")
    second = build(project, "function_project.pipeline", tmp_path / "second", "--rebuild")

    assert first == second
    assert "2026" not in first and "2025" not in first  # no build time in any payload prefix
    staged = [sorted((p.relative_to(state), p.read_bytes()) for p in (state / "s3").rglob("*") if p.is_file())
              for state in (tmp_path / "first", tmp_path / "second")]
    assert staged[0] == staged[1] and sum(path.name == "payload.pkl" for path, _ in staged[0]) == 4
    key = Path(os.environ["HOME"]) / ".config" / "modelbuild" / "function-step-signing-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow  # builds with the SDK twice, in processes of their own
def test_the_code_a_sagemaker_run_uploads_is_what_the_definition_names_and_diff_sees_no_change(tmp_path, clients):
    project = make_project(tmp_path / "project", "count_project", FRAMEWORK_PROCESSOR, {
        "src/count.py": COUNT_SCRIPT, "src/helper.py": "def scaled(n, k):\n    return str(n * k)\n"})
    clients.s3.create_bucket(Bucket="bkt")
    modelbuild = str(Path(sys.executable).parent / "modelbuild")
    options = ["-n", "count_project.pipeline", "--kwargs", json.dumps({"default_bucket": "bkt"}),
               "--role-arn", ROLE_ARN]

    started = subprocess.run([modelbuild, "run", "--target", "sagemaker", *options], cwd=project,
                             capture_output=True, text=True, check=False)
    fresh = {**os.environ, "MODELBUILD_HOME": str(tmp_path / "fresh")}  # no build to reuse: a build of its own
    diffed = subprocess.run([modelbuild, "diff", "--exit-code", *options], cwd=project, env=fresh,
                            capture_output=True, text=True, check=False)

    assert started.returncode == 0, started.stderr
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr
    assert "Building count_project.pipeline" in diffed.stderr  # a second build, not the first one reused
    deployed = json.loads(clients.sagemaker.describe_pipeline(PipelineName="FrameworkProcessorPipeline")
                          ["PipelineDefinition"])
    code = next(item["S3Input"]["S3Uri"] for item in deployed["Steps"][0]["Arguments"]["ProcessingInputs"]
                if item["InputName"] == "code")
    keys = [item["Key"] for item in clients.s3.list_objects_v2(Bucket="bkt")["Contents"]]
    assert f"{code[len('s3://bkt/'):]}sourcedir.tar.gz" in keys
