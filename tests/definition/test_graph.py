"""`render_graph`: the reference pipeline as a text tree, a Mermaid flowchart and a Graphviz digraph."""

from __future__ import annotations

import re

import pytest

from modelbuild.definition.diff import flatten_steps
from modelbuild.definition.dsl import parse_definition
from modelbuild.definition.graph import edges, render_graph
from modelbuild.errors import DefinitionError


def fail(name: str, depends_on: list[str] = ()) -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {}, "DependsOn": list(depends_on)}


@pytest.fixture
def fan_out_fan_in():
    """A -> (B, C) -> D, and D also names A in its DependsOn (an edge the graph need not draw)."""
    return {"Steps": [fail("A"), fail("B", ["A"]), fail("C", ["A"]), fail("D", ["B", "C", "A"])]}


def branches(definition: dict) -> dict[str, str]:
    """Branch step name -> "if true" / "if false", read from the definition."""
    return {
        name: "if true" if step["Branch"].endswith("if true") else "if false"
        for name, step in flatten_steps(definition).items()
        if "Branch" in step
    }


def test_text_shows_every_step_once_with_its_type(reference):
    text = render_graph(reference.definition, "text", title=reference.pipeline_name)

    lines = text.splitlines()
    assert lines[0] == f"{reference.pipeline_name} ({len(flatten_steps(reference.definition))} steps)"
    for name, step in flatten_steps(reference.definition).items():
        assert len([line for line in lines if f" {name} [{step['Type']}]" in line]) == 1, name


def test_text_labels_each_branch_step_below_its_condition(reference):
    text = render_graph(reference.definition, "text")

    labelled = {name: label for label, name in re.findall(r"(if true|if false): (\w+)", text)}
    first_in_branch = {name: label for name, label in branches(reference.definition).items() if name in labelled}
    assert labelled == first_in_branch
    assert "if false" in labelled.values() and "if true" in labelled.values()


def test_text_indents_a_step_below_the_step_it_waits_for(fan_out_fan_in):
    lines = render_graph(fan_out_fan_in, "text").splitlines()

    depth = {re.search(r"(\w) \[Fail\]", line).group(1): line.index("── ") for line in lines[1:]}
    assert depth["A"] < depth["B"] == depth["C"] < depth["D"]
    assert any("D [Fail] (after " in line for line in lines)


def test_mermaid_has_one_node_per_step_and_one_arrow_per_direct_edge(reference):
    text = render_graph(reference.definition, "mermaid", title=reference.pipeline_name)

    assert "flowchart TD" in text.splitlines()
    spec = parse_definition(reference.definition)
    nodes = re.findall(r'^    (s\d+)[\[\{\(]+"([^"<]+)<br/>', text, re.MULTILINE)
    assert sorted(name for _, name in nodes) == sorted(spec.steps)
    ids = {node: name for node, name in nodes}
    arrows = re.findall(r"^    (s\d+) (?:-- \"(if true|if false)\" )?--> (s\d+)$", text, re.MULTILINE)
    assert [(ids[a], ids[b], label or None) for a, label, b in arrows] == edges(spec)


def test_mermaid_draws_conditions_as_decisions(reference):
    text = render_graph(reference.definition, "mermaid")

    conditions = [name for name, step in flatten_steps(reference.definition).items() if step["Type"] == "Condition"]
    assert conditions
    for name in conditions:
        assert re.search(rf'^    s\d+\{{"{name}<br/>', text, re.MULTILINE)


def test_dot_has_one_node_per_step_and_one_edge_per_direct_edge(reference):
    text = render_graph(reference.definition, "dot", title=reference.pipeline_name)

    spec = parse_definition(reference.definition)
    assert text.startswith(f'digraph "{reference.pipeline_name}" {{') and text.rstrip().endswith("}")
    nodes = re.findall(r'^    "(\w+)" \[label=', text, re.MULTILINE)
    assert sorted(nodes) == sorted(spec.steps)
    drawn = re.findall(r'^    "(\w+)" -> "(\w+)"(?: \[label="(if true|if false)"\])?;$', text, re.MULTILINE)
    assert [(a, b, label or None) for a, b, label in drawn] == edges(spec)


def test_edges_leave_out_what_another_path_implies(fan_out_fan_in):
    assert edges(parse_definition(fan_out_fan_in)) == [
        ("A", "B", None), ("A", "C", None), ("B", "D", None), ("C", "D", None),
    ]


def test_an_unknown_format_is_refused(fan_out_fan_in):
    with pytest.raises(ValueError, match="text, mermaid, dot"):
        render_graph(fan_out_fan_in, "svg")


def test_a_cycle_is_a_definition_error(fan_out_fan_in):
    fan_out_fan_in["Steps"][0]["DependsOn"] = ["D"]

    with pytest.raises(DefinitionError, match="cycle"):
        render_graph(fan_out_fan_in, "text")
