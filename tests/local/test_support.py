"""`local_support`: how the engine would run each step, before a run finds out."""

from __future__ import annotations

from modelbuild.definition.dsl import parse_definition
from modelbuild.local.support import EMULATED, REFUSED, STUB_NEEDED, STUBBED, local_support
from tests.local.conftest import definition, processing
from tests.local.test_steps import training
from tests.local.test_tuning import tuning


def hows(pipeline: dict, stubs: dict | None = None) -> dict[str, str]:
    return {s.step: s.how for s in local_support(parse_definition(pipeline), stubs)}


def test_each_step_is_emulated_refused_stubbed_or_needs_a_stub():
    pipeline = definition(
        processing("Prep", "write"),
        training("Train", image="123.dkr.ecr.us-east-1.amazonaws.com/my-own-trainer:1"),
        tuning("Random"),
        {"Name": "Quality", "Type": "QualityCheck", "Arguments": {}},
        {"Name": "Clarify", "Type": "ClarifyCheck", "Arguments": {}},
    )

    assert hows(pipeline, {"Clarify": "clarify.json"}) == {
        "Prep": EMULATED, "Train": REFUSED, "Tune": EMULATED, "Quality": STUB_NEEDED, "Clarify": STUBBED}


def test_the_detail_says_why_and_how():
    pipeline = definition(training("Train", image="123.dkr.ecr.us-east-1.amazonaws.com/my-own-trainer:1"),
                          tuning("Random"))

    details = {s.step: s.detail for s in local_support(parse_definition(pipeline))}
    assert "my-own-trainer" in details["Train"]
    assert details["Tune"].startswith("Random search: 4 training jobs, 2 at once")
