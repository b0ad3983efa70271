"""Tuning step (HyperParameterTuningJob): training jobs proposed by a search strategy, run by the Training step.

Each training job of the tuning job is the Training step's job (built-in XGBoost emulation or script
mode) with the definition's StaticHyperParameters plus the tuned ones, named as SageMaker names them
(`<tuning job>-<NNN>-<8 hex>`), so its model lands at `<S3OutputPath>/<TrainingJobName>/output/model.tar.gz`
and `TuningStep.get_top_model_s3_uri(k)` resolves. The objective is read from the job's log with the
definition's MetricDefinitions, or, for the built-in XGBoost algorithm, with the metrics it logs
(`validation:rmse` is the last `validation-rmse:<value>` of the log), as SageMaker reads them; the
algorithm also gets `_tuning_objective_metric`, as the image does.

The step's properties are DescribeHyperParameterTuningJob's response plus
ListTrainingJobsForHyperParameterTuningJob's `TrainingJobSummaries`, best first (what SageMaker
Pipelines merges in). Honoured: Strategy (see `modelbuild.local.tuning_search`), ResourceLimits
(MaxNumberOfTrainingJobs, MaxParallelTrainingJobs, MaxRuntimeInSeconds), RandomSeed, the completion
criteria TargetObjectiveMetricValue and BestObjectiveNotImproving, several TrainingJobDefinitions.
Differences from SageMaker: jobs are never stopped early (TrainingJobEarlyStoppingType Auto and
ConvergenceDetected change nothing), Hyperband runs its configurations to MaxResource and reports
the jobs its successive halving would have stopped as Stopped, with the objective they had then.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from modelbuild.definition.service_model import is_expression
from modelbuild.local.steps import StepContext, StepFailed, StepResult, training
from modelbuild.local.tuning_search import STRATEGIES, Search, SearchSpaceError, search_space

_NUMBER = r"([-+]?(?:[0-9]*\.?[0-9]+|[0-9]+\.)(?:[eE][-+]?[0-9]+)?)"
_ARN = "arn:aws:sagemaker:{region}:000000000000:{kind}/{name}"


@dataclass
class ChildJob:
    """One training job of the tuning job, as ListTrainingJobsForHyperParameterTuningJob reports it."""

    name: str
    definition: Mapping[str, Any]
    tuned: dict[str, str]
    created: float = field(default_factory=time.time)
    ended: float | None = None
    status: str = "InProgress"
    failure_reason: str | None = None
    objective: float | None = None
    history: list[float] = field(default_factory=list)

    def summary(self, tuning_name: str, objective: Mapping[str, Any], region: str) -> dict[str, Any]:
        """The job's HyperParameterTrainingJobSummary."""
        data: dict[str, Any] = {
            "TrainingJobName": self.name,
            "TrainingJobArn": _ARN.format(region=region, kind="training-job", name=self.name),
            "TuningJobName": tuning_name,
            "CreationTime": _iso(self.created),
            "TrainingStartTime": _iso(self.created),
            "TrainingEndTime": _iso(self.ended or time.time()),
            "TrainingJobStatus": self.status,
            "TunedHyperParameters": dict(self.tuned),
            "ObjectiveStatus": "Succeeded" if self.objective is not None else "Failed",
        }
        if self.definition.get("DefinitionName"):
            data["TrainingJobDefinitionName"] = self.definition["DefinitionName"]
        if self.failure_reason:
            data["FailureReason"] = self.failure_reason
        if self.objective is not None:
            data["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": self.objective}
        return data


def definitions(arguments: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The tuning job's training job definitions (TrainingJobDefinition, or TrainingJobDefinitions)."""
    if arguments.get("TrainingJobDefinitions"):
        return list(arguments["TrainingJobDefinitions"])
    return [arguments["TrainingJobDefinition"]] if arguments.get("TrainingJobDefinition") else []


def training_request(definition: Mapping[str, Any], tuned: Mapping[str, str], objective_metric: str) -> dict:
    """The CreateTrainingJob request of one job of the tuning job."""
    request = {key: value for key, value in definition.items()
               if key not in ("DefinitionName", "TuningObjective", "HyperParameterRanges", "StaticHyperParameters",
                              "HyperParameterTuningResourceConfig")}
    spec = dict(definition.get("AlgorithmSpecification") or {})
    hyperparameters = {**(definition.get("StaticHyperParameters") or {}), **tuned}
    if training.runs_builtin_algorithm(spec, hyperparameters):
        hyperparameters["_tuning_objective_metric"] = objective_metric  # the built-in algorithm's contract
    request["HyperParameters"] = hyperparameters
    request["AlgorithmSpecification"] = spec
    return request


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """What every training job of the tuning job reads."""
    uris: list[str] = []
    for definition in definitions(arguments):
        request = {**definition, "HyperParameters": definition.get("StaticHyperParameters") or {}}
        uris += training.input_uris(request)
    return uris


def unsupported(arguments: Mapping[str, Any]) -> str | None:
    """Why the engine cannot run this tuning job, or None."""
    config = arguments.get("HyperParameterTuningJobConfig") or {}
    strategy = config.get("Strategy")
    if not definitions(arguments):
        return "the tuning job has no TrainingJobDefinition"
    if isinstance(strategy, str) and strategy not in STRATEGIES:
        return f"strategy {strategy!r} is not one of {', '.join(STRATEGIES)}"
    if arguments.get("WarmStartConfig"):
        return "WarmStartConfig needs parent tuning jobs run by SageMaker; the local engine does not warm-start"
    if arguments.get("Autotune"):
        return "Autotune lets SageMaker's service choose ranges and strategy, which is not emulated"
    limits = config.get("ResourceLimits") or {}
    if strategy != "Grid" and not limits.get("MaxNumberOfTrainingJobs"):
        return "ResourceLimits.MaxNumberOfTrainingJobs is needed locally (the engine does not run open-ended tuning)"
    for definition in definitions(arguments):
        reason = training.unsupported({**definition, "HyperParameters": definition.get("StaticHyperParameters")})
        if reason:
            return reason
        spec = definition.get("AlgorithmSpecification") or {}
        metric = _objective(config, definition).get("MetricName")
        if isinstance(metric, str) and not _metric_regex(spec, definition, metric):
            return (f"objective metric {metric!r} has no MetricDefinitions entry (script mode reports metrics only "
                    "through MetricDefinitions regexes)")
        ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges") or {}
        if _has_expression(ranges):  # checked when the run resolves it
            continue
        try:
            space = search_space(ranges)
            if strategy == "Grid":
                Search(space, "Grid", True)
        except (SearchSpaceError, TypeError, ValueError, KeyError) as exc:
            return f"ParameterRanges: {exc}"
    return None


def describe(arguments: Mapping[str, Any]) -> str:
    """How the engine runs this tuning job, for `validate --target local`."""
    config = arguments.get("HyperParameterTuningJobConfig") or {}
    limits = config.get("ResourceLimits") or {}
    jobs = limits.get("MaxNumberOfTrainingJobs") or "every grid combination of"
    text = (f"{config.get('Strategy', 'Bayesian')} search: {jobs} training jobs, "
            f"{limits.get('MaxParallelTrainingJobs') or 1} at once, each run as a Training step")
    if config.get("TrainingJobEarlyStoppingType") == "Auto":
        text += " (early stopping is not applied locally: every job runs to the end)"
    return text


def run(ctx: StepContext) -> StepResult:
    """Run the tuning job's training jobs and report them, best first."""
    arguments = ctx.arguments
    config = arguments["HyperParameterTuningJobConfig"]
    tuning = TuningRun(ctx, config, definitions(arguments))
    started = time.time()
    children = tuning.run()
    ranked = sorted((c for c in children if c.objective is not None), key=tuning.sort_key)
    if not ranked:
        reasons = next((c.failure_reason for c in children if c.failure_reason), "no job reported the objective")
        raise StepFailed(f"no training job of the tuning job reported its objective: {reasons}")
    rest = [c for c in children if c.objective is None]
    objective = tuning.objective_of(ranked[0].definition)
    summaries = [child.summary(tuning.name, tuning.objective_of(child.definition), ctx.region)
                 for child in [*ranked, *rest]]
    statuses = [child.status for child in children]
    return StepResult({
        **arguments,
        "HyperParameterTuningJobName": tuning.name,
        "HyperParameterTuningJobArn": _ARN.format(region=ctx.region, kind="hyper-parameter-tuning-job",
                                                  name=tuning.name.lower()),
        "HyperParameterTuningJobStatus": "Completed",
        "CreationTime": _iso(started),
        "HyperParameterTuningEndTime": _iso(time.time()),
        "LastModifiedTime": _iso(time.time()),
        "TrainingJobStatusCounters": {
            "Completed": statuses.count("Completed"), "InProgress": 0, "RetryableError": 0,
            "NonRetryableError": statuses.count("Failed"), "Stopped": statuses.count("Stopped"),
        },
        "ObjectiveStatusCounters": {"Succeeded": len(ranked), "Pending": 0, "Failed": len(rest)},
        "BestTrainingJob": ranked[0].summary(tuning.name, objective, ctx.region),
        "TuningJobCompletionDetails": {"NumberOfTrainingJobsObjectiveNotImproving": tuning.not_improving},
        "TrainingJobSummaries": summaries,
    })


class TuningRun:
    """The loop of one tuning job: propose, run up to MaxParallelTrainingJobs at once, observe, stop."""

    def __init__(self, ctx: StepContext, config: Mapping[str, Any], job_definitions: list[Mapping[str, Any]]) -> None:
        self.ctx = ctx
        self.config = config
        self.definitions = job_definitions
        self.name = tuning_job_name(ctx.execution_id, ctx.spec.name)
        self.strategy = config.get("Strategy", "Bayesian")
        limits = config.get("ResourceLimits") or {}
        self.max_parallel = max(1, int(limits.get("MaxParallelTrainingJobs") or 1))
        self.max_runtime = float(limits["MaxRuntimeInSeconds"]) if limits.get("MaxRuntimeInSeconds") else None
        seed = config.get("RandomSeed")
        self.searches = []
        for index, definition in enumerate(job_definitions):
            ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges") or {}
            try:
                space = search_space(ranges)
                minimize = self.objective_of(definition)["Type"] == "Minimize"
                seeded = None if seed is None else int(seed) + index
                self.searches.append(Search(space, self.strategy, minimize, seeded))
            except SearchSpaceError as exc:
                raise StepFailed(f"ParameterRanges: {exc}") from exc
        grid_size = sum(len(s.grid) for s in self.searches if s.grid is not None)
        self.max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or grid_size)
        self.children: list[ChildJob] = []
        self.not_improving = 0
        self.lock = threading.Lock()
        self.log = ctx.log_path
        self.log.parent.mkdir(parents=True, exist_ok=True)

    def objective_of(self, definition: Mapping[str, Any]) -> Mapping[str, Any]:
        """The objective of a definition's jobs (its own TuningObjective, else the tuning job's)."""
        return _objective(self.config, definition)

    def sort_key(self, child: ChildJob) -> float:
        """Best first: the lowest objective when minimizing, the highest when maximizing."""
        minimize = self.objective_of(child.definition)["Type"] == "Minimize"
        return child.objective if minimize else -child.objective  # type: ignore[operator]

    def run(self) -> list[ChildJob]:
        """Run jobs until the limits or a completion criterion stop the tuning job; return them in start order."""
        self._write(f"tuning job {self.name}: strategy {self.strategy}, up to {self.max_jobs} training jobs, "
                    f"{self.max_parallel} at once")
        started = time.time()
        running: dict[Future, tuple[ChildJob, Search]] = {}
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="modelbuild-tuning") as pool:
            while True:
                while len(running) < self.max_parallel and not self.ctx.cancelled.is_set() and not self._done(started):
                    search = self._next_search()
                    if search is None:
                        break
                    definition = self.definitions[self.searches.index(search)]
                    child = ChildJob(child_job_name(self.name, len(self.children) + 1), definition, search.propose())
                    self.children.append(child)
                    running[pool.submit(self._train, child)] = (child, search)
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    child, search = running.pop(future)
                    future.result()
                    search.observe(child.tuned, child.objective)
                    self._count_improvement(child)
        if self.ctx.cancelled.is_set():  # the run is stopping: its running jobs were killed, no others started
            raise StepFailed("stopped while the tuning job ran")
        if self.strategy == "Hyperband":
            self._hyperband_stops()
        return self.children

    def _next_search(self) -> Search | None:
        """The definition whose turn it is (round robin over definitions with proposals left)."""
        live = [s for s in self.searches if not s.exhausted]
        return live[len(self.children) % len(live)] if live else None

    def _done(self, started: float) -> bool:
        if len(self.children) >= self.max_jobs:
            return True
        if self.max_runtime is not None and time.time() - started >= self.max_runtime:
            self._write("MaxRuntimeInSeconds reached: no new training jobs")
            return True
        criteria = self.config.get("TuningJobCompletionCriteria") or {}
        best = self._best()
        target = criteria.get("TargetObjectiveMetricValue")
        if target is not None and best is not None:
            minimize = self.objective_of(best.definition)["Type"] == "Minimize"
            if (best.objective <= float(target)) if minimize else (best.objective >= float(target)):
                self._write(f"TargetObjectiveMetricValue {target} reached by {best.name}")
                return True
        patience = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
        if patience and self.not_improving >= int(patience):
            self._write(f"{self.not_improving} training jobs did not improve the objective: tuning completes")
            return True
        return False

    def _best(self) -> ChildJob | None:
        scored = [c for c in self.children if c.objective is not None]
        return min(scored, key=self.sort_key) if scored else None

    def _count_improvement(self, child: ChildJob) -> None:
        if child.objective is None:
            return
        best = self._best()
        self.not_improving = 0 if best is child else self.not_improving + 1

    def _train(self, child: ChildJob) -> None:
        """Run one training job; record its status and objective (never raises for the job's failure)."""
        objective = self.objective_of(child.definition)
        request = training_request(child.definition, child.tuned, objective["MetricName"])
        log_path = self.log.parent / self.log.stem / f"{child.name}.log"
        job_ctx = replace(self.ctx, arguments=request, job_name=child.name, job_dir=self.ctx.job_dir / child.name,
                          log_path=log_path)
        if self.ctx.cancelled.is_set():  # submitted, but the run stopped before a worker took it
            child.status, child.failure_reason = "Stopped", "the run was stopped"
            return
        self._write(f"{child.name} started: {json.dumps(child.tuned)}")
        try:
            training.run(job_ctx)
            child.status = "Completed"
        except StepFailed as exc:
            child.status, child.failure_reason = "Failed", exc.reason
        child.ended = time.time()
        spec = child.definition.get("AlgorithmSpecification") or {}
        regex = _metric_regex(spec, child.definition, objective["MetricName"])
        if child.status == "Completed" and regex and log_path.exists():
            child.history = [float(m) for m in re.findall(regex, log_path.read_text(errors="replace"), re.MULTILINE)]
            child.objective = child.history[-1] if child.history else None
        if child.status == "Completed" and child.objective is None:
            child.failure_reason = f"the job's log has no value of the objective metric {objective['MetricName']!r}"
        shown = "no objective" if child.objective is None else f"{objective['MetricName']}={child.objective:g}"
        self._write(f"{child.name} {child.status}: {shown}" + (f" ({child.failure_reason})"
                                                              if child.failure_reason else "") + f"; log: {log_path}")

    def _hyperband_stops(self) -> None:
        """Successive halving over the jobs' intermediate objectives: the jobs Hyperband would stop, as Stopped."""
        config = (self.config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
        scored = [c for c in self.children if c.history]
        if not scored:
            return
        most = max(len(c.history) for c in scored)
        min_resource = max(1, int(config.get("MinResource") or 1))
        max_resource = min(int(config.get("MaxResource") or most), most)
        alive, resource = list(scored), min_resource
        while resource < max_resource and len(alive) > 1:
            at_rung = sorted(alive, key=lambda c: self._at(c, resource))
            keep = max(1, len(alive) // 3)  # Hyperband's reduction factor 3
            for child in at_rung[keep:]:
                child.status, child.objective = "Stopped", child.history[min(resource, len(child.history)) - 1]
                self._write(f"{child.name} Stopped by Hyperband at resource {resource}: objective {child.objective:g}")
            alive, resource = at_rung[:keep], resource * 3

    def _at(self, child: ChildJob, resource: int) -> float:
        value = child.history[min(resource, len(child.history)) - 1]
        minimize = self.objective_of(child.definition)["Type"] == "Minimize"
        return value if minimize else -value

    def _write(self, line: str) -> None:
        with self.lock, self.log.open("a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {line}\n")


def tuning_job_name(execution_id: str, step_name: str) -> str:
    """The tuning job's name: at most 32 characters (SageMaker's limit), unique per execution and step."""
    name = f"{execution_id}-{re.sub(r'[^A-Za-z0-9-]', '-', step_name)}"
    if len(name) <= 32:
        return name
    return f"{name[:23]}-{hashlib.sha256(step_name.encode()).hexdigest()[:8]}"


def child_job_name(tuning_name: str, number: int) -> str:
    """A training job's name as SageMaker names a tuning job's children: <tuning job>-<NNN>-<8 hex>."""
    return f"{tuning_name}-{number:03d}-{secrets.token_hex(4)}"


def _objective(config: Mapping[str, Any], definition: Mapping[str, Any]) -> Mapping[str, Any]:
    return definition.get("TuningObjective") or config.get("HyperParameterTuningJobObjective") or {}


def _metric_regex(spec: Mapping[str, Any], definition: Mapping[str, Any], metric: str) -> str | None:
    """The regex whose first group is the metric's value in the job's log."""
    for item in spec.get("MetricDefinitions") or []:
        if item.get("Name") == metric:
            return item.get("Regex")
    hyperparameters = definition.get("StaticHyperParameters") or {}
    if training.runs_builtin_algorithm(spec, hyperparameters) and ":" in metric:
        channel, _, name = metric.partition(":")  # the algorithm logs "[i]\tvalidation-rmse:0.123"
        return rf"^\[\d+\].*\b{re.escape(channel)}-{re.escape(name)}:{_NUMBER}"
    return None


def _has_expression(value: Any) -> bool:
    """True when a pipeline expression (Get, Std:Join, ...) stands anywhere in `value`."""
    if is_expression(value):
        return True
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else []
    return any(_has_expression(item) for item in items)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()

