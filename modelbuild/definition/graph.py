"""The step DAG of a definition as text: a tree for the terminal, Mermaid for READMEs, DOT for Graphviz.

Plain data in, a string out; nothing runs and nothing reaches AWS. Edges come from `dsl`'s graph
(DependsOn, data references and the condition a branch step sits in); an edge out of a condition
is labelled with the branch ("if true" / "if false").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modelbuild.definition.dsl import PipelineSpec, StepSpec, parse_definition

FORMATS = ("text", "mermaid", "dot")


def render_graph(definition: Mapping[str, Any], fmt: str = "text", title: str | None = None) -> str:
    """Render a definition's step graph.

    Args:
        definition: the definition JSON, loaded.
        fmt: "text" (an indented tree), "mermaid" (a flowchart) or "dot" (a Graphviz digraph).
        title: the pipeline's name, shown as the tree's root / the graph's name.

    Returns:
        The rendering, ending with a newline.

    Raises:
        DefinitionError: the definition cannot be parsed (see `dsl.parse_definition`).
        ValueError: `fmt` is not one of FORMATS.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format should be one of {', '.join(FORMATS)}, got {fmt!r}")
    spec = parse_definition(definition)
    return {"text": _text, "mermaid": _mermaid, "dot": _dot}[fmt](spec, title)


def direct_upstream(spec: PipelineSpec) -> dict[str, list[str]]:
    """Each step's upstream steps without those it already waits for through another (transitive reduction),
    in run order: Train -> Evaluate -> Check draws no Train -> Check edge."""
    ancestors: dict[str, set[str]] = {}
    for name in spec.order:
        ancestors[name] = set()
        for upstream in spec.steps[name].upstream:
            ancestors[name] |= {upstream, *ancestors[upstream]}
    reduced = {}
    for name in spec.order:
        upstream = spec.steps[name].upstream
        implied = set().union(*(ancestors[other] for other in upstream))
        reduced[name] = sorted((u for u in upstream if u not in implied), key=spec.order.index)
    return reduced


def edges(spec: PipelineSpec) -> list[tuple[str, str, str | None]]:
    """(upstream, downstream, label) of the reduced graph in run order; label is "if true"/"if false" or None."""
    return [
        (upstream, name, _branch_label(spec.steps[name], upstream))
        for name, upstreams in direct_upstream(spec).items()
        for upstream in upstreams
    ]


def _branch_label(step: StepSpec, upstream: str) -> str | None:
    if step.branch_of and step.branch_of[0] == upstream:
        return "if true" if step.branch_of[1] else "if false"
    return None


def _text(spec: PipelineSpec, title: str | None) -> str:
    # A DAG is not a tree: each step hangs under one parent (of its direct upstream steps, the one
    # that runs last) and names the others as "after ...".
    reduced = direct_upstream(spec)
    parents = {name: (upstream[-1] if upstream else None) for name, upstream in reduced.items()}
    children: dict[str | None, list[str]] = {}
    for name in spec.order:
        children.setdefault(parents[name], []).append(name)
    lines = [f"{title or 'pipeline'} ({len(spec.steps)} steps)"]

    def add(name: str, prefix: str, last: bool) -> None:
        step = spec.steps[name]
        label = _branch_label(step, parents[name] or "")
        others = [upstream for upstream in reduced[name] if upstream != parents[name]]
        line = f"{prefix}{'└── ' if last else '├── '}{label + ': ' if label else ''}{name} [{step.type}]"
        lines.append(line + (f" (after {', '.join(others)})" if others else ""))
        below = children.get(name, [])
        for index, child in enumerate(below):
            add(child, prefix + ("    " if last else "│   "), index == len(below) - 1)

    roots = children.get(None, [])
    for index, root in enumerate(roots):
        add(root, "", index == len(roots) - 1)
    return "\n".join(lines) + "\n"


def _mermaid(spec: PipelineSpec, title: str | None) -> str:
    ids = {name: f"s{index}" for index, name in enumerate(spec.order)}
    lines = [f"---\ntitle: {title}\n---"] if title else []
    lines.append("flowchart TD")
    for name in spec.order:
        step = spec.steps[name]
        label = f"{name}<br/><i>{step.type}</i>".replace('"', "#quot;")
        opening, closing = {"Condition": ("{", "}"), "Fail": ("([", "])")}.get(step.type, ("[", "]"))
        lines.append(f'    {ids[name]}{opening}"{label}"{closing}')
    for upstream, downstream, label in edges(spec):
        arrow = f' -- "{label}" --> ' if label else " --> "
        lines.append(f"    {ids[upstream]}{arrow}{ids[downstream]}")
    return "\n".join(lines) + "\n"


def _dot(spec: PipelineSpec, title: str | None) -> str:
    def quote(text: str) -> str:
        return json.dumps(text)  # DOT's quoted strings escape like JSON's for these characters

    lines = [f"digraph {quote(title or 'pipeline')} {{", "    rankdir=TB;", '    node [shape=box, style=rounded];']
    for name in spec.order:
        step = spec.steps[name]
        shape = {"Condition": ", shape=diamond", "Fail": ", shape=octagon"}.get(step.type, "")
        lines.append(f"    {quote(name)} [label={quote(name + chr(10) + step.type)}{shape}];")
    for upstream, downstream, label in edges(spec):
        attributes = f" [label={quote(label)}]" if label else ""
        lines.append(f"    {quote(upstream)} -> {quote(downstream)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"
