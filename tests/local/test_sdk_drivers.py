"""The SDK's own job drivers run unchanged inside the job's namespace: ModelTrainer + SourceCode (sm_drivers),
built from a user's project with the real SDK and run by the local engine on small real data."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelbuild.local import isolation
from modelbuild.local.engine import PipelineSource, run_pipeline
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.store import ObjectStore
from tests.local.test_steps import model_member

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


def build(project: Path, module: str, state: Path) -> str:
    """The definition `modelbuild get-definition` builds from the project (in its own process, as a user
    runs it; the SDK stays out of the test process), its code staged in the store below `state`."""
    done = subprocess.run([str(Path(sys.executable).parent / "modelbuild"), "get-definition", "-n", module,
                           "--kwargs", json.dumps({"default_bucket": "bkt", "region": "us-east-1"}),
                           "--state-dir", str(state)],
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
    class _Workspace:  # model_member reads through a workspace's store
        pass

    holder = _Workspace()
    holder.store = store
    return model_member(holder, uri, member)
