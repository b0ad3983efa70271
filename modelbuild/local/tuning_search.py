"""Hyperparameter search for local tuning jobs: parameter ranges, their scaling, and the strategies.

A tuning job's `ParameterRanges` become a `SearchSpace`: every range maps a point of the unit interval
to a value as SageMaker's scaling types do (Linear; Logarithmic over [min, max] with min > 0;
ReverseLogarithmic, finer near 1, for continuous ranges within [0, 1); Auto is taken as Linear).
Strategies propose the next hyperparameters from the jobs seen so far:

- `Random`: independent uniform draws in the scaled space, from `RandomSeed` when given.
- `Grid`: every combination of the categorical values, in order (SageMaker's grid search takes only
  categorical ranges and runs each combination once).
- `Bayesian`: a sequential model-based search: after a few random draws, a Gaussian process
  (scikit-learn) fitted to the objectives seen so far picks the candidate with the highest expected
  improvement among random candidates; categorical values are one-hot encoded.
- `Hyperband`: random configurations, run in successive-halving brackets by the tuning step.
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STRATEGIES = ("Random", "Grid", "Bayesian", "Hyperband")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


class SearchSpaceError(ValueError):
    """A parameter range SageMaker would reject (the message says which and why)."""


@dataclass(frozen=True)
class Range:
    """One hyperparameter's range: kind Integer, Continuous or Categorical."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Auto"
    values: tuple[str, ...] = ()

    def value(self, unit: float) -> str:
        """The hyperparameter value (as SageMaker passes it: text) at `unit` in [0, 1]."""
        unit = min(max(unit, 0.0), 1.0)
        if self.kind == "Categorical":
            return self.values[min(int(unit * len(self.values)), len(self.values) - 1)]
        if self.scaling == "Logarithmic":
            number = math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        elif self.scaling == "ReverseLogarithmic":
            number = 1 - math.exp(math.log(1 - self.low) + unit * (math.log(1 - self.high) - math.log(1 - self.low)))
        else:
            number = self.low + unit * (self.high - self.low)
        if self.kind == "Integer":
            return str(int(min(max(round(number), self.low), self.high)))
        return repr(float(min(max(number, self.low), self.high)))


def search_space(ranges: Mapping[str, Any]) -> list[Range]:
    """The `ParameterRanges` of a tuning job definition as Ranges.

    Raises:
        SearchSpaceError: a range SageMaker rejects (min above max, a logarithmic range reaching 0, ...).
    """
    found: list[Range] = []
    for kind in ("Integer", "Continuous"):
        for item in ranges.get(f"{kind}ParameterRanges") or []:
            low, high = float(item["MinValue"]), float(item["MaxValue"])
            scaling = item.get("ScalingType") or "Auto"
            name = item["Name"]
            if scaling not in SCALING_TYPES:
                raise SearchSpaceError(f"range {name!r}: unknown ScalingType {scaling!r}")
            if low > high:
                raise SearchSpaceError(f"range {name!r}: MinValue {low:g} is above MaxValue {high:g}")
            if scaling == "Logarithmic" and low <= 0:
                raise SearchSpaceError(f"range {name!r}: Logarithmic scaling needs MinValue above 0")
            if scaling == "ReverseLogarithmic" and (kind == "Integer" or low < 0 or high >= 1):
                raise SearchSpaceError(f"range {name!r}: ReverseLogarithmic scaling needs a continuous range "
                                       "within [0, 1)")
            found.append(Range(name, kind, low, high, scaling))
    for item in ranges.get("CategoricalParameterRanges") or []:
        if not item.get("Values"):
            raise SearchSpaceError(f"range {item['Name']!r} has no Values")
        found.append(Range(item["Name"], "Categorical", values=tuple(str(v) for v in item["Values"])))
    names = [r.name for r in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SearchSpaceError(f"hyperparameter(s) {', '.join(duplicates)} have more than one range")
    if ranges.get("AutoParameters"):
        raise SearchSpaceError("AutoParameters (Autotune) are chosen by SageMaker's service and not emulated")
    return found


def grid(space: Sequence[Range]) -> list[dict[str, str]]:
    """Every combination of a grid search, in order.

    Raises:
        SearchSpaceError: a range is not categorical (SageMaker's grid search takes only categorical ranges).
    """
    numeric = [r.name for r in space if r.kind != "Categorical"]
    if numeric:
        raise SearchSpaceError(f"Grid strategy takes only categorical ranges; {', '.join(numeric)} "
                               "are not (make them CategoricalParameterRanges)")
    return [dict(zip([r.name for r in space], combination, strict=True))
            for combination in itertools.product(*(r.values for r in space))]


class Search:
    """Proposes hyperparameters one job at a time; `observe` feeds back each finished job's objective.

    Args:
        space: the ranges.
        strategy: Random, Grid, Bayesian or Hyperband.
        minimize: the objective's direction.
        seed: RandomSeed (None: not reproducible, as on SageMaker).
    """

    def __init__(self, space: Sequence[Range], strategy: str, minimize: bool, seed: int | None = None) -> None:
        self.space = list(space)
        self.strategy = strategy
        self.minimize = minimize
        self.random = random.Random(seed)
        self.grid = grid(self.space) if strategy == "Grid" else None
        self.proposed = 0
        self.seen: list[tuple[list[float], float]] = []  # (unit point, objective to minimize)

    @property
    def exhausted(self) -> bool:
        """True when the strategy has nothing more to propose (a finished grid)."""
        return self.grid is not None and self.proposed >= len(self.grid)

    def propose(self) -> dict[str, str]:
        """The next job's tuned hyperparameters."""
        self.proposed += 1
        if self.grid is not None:
            return self.grid[self.proposed - 1]
        if self.strategy == "Bayesian" and len(self.seen) >= self._initial_points():
            return self._values(self._expected_improvement_pick())
        return self._values([self.random.random() for _ in self.space])

    def observe(self, hyperparameters: Mapping[str, str], objective: float | None) -> None:
        """Record a finished job (objective None: it failed or reported no objective)."""
        if objective is None or math.isnan(objective):
            return
        self.seen.append((self._unit(hyperparameters), objective if self.minimize else -objective))

    def _values(self, unit: Sequence[float]) -> dict[str, str]:
        return {r.name: r.value(u) for r, u in zip(self.space, unit, strict=True)}

    def _unit(self, hyperparameters: Mapping[str, str]) -> list[float]:
        """A job's hyperparameters back in the unit space (inverse of Range.value, for the model)."""
        point = []
        for r in self.space:
            text = hyperparameters[r.name]
            if r.kind == "Categorical":
                point.append((r.values.index(text) + 0.5) / len(r.values))
                continue
            number, low, high = float(text), r.low, r.high
            if high == low:
                point.append(0.5)
            elif r.scaling == "Logarithmic":
                point.append((math.log(number) - math.log(low)) / (math.log(high) - math.log(low)))
            elif r.scaling == "ReverseLogarithmic":
                point.append((math.log(1 - number) - math.log(1 - low)) / (math.log(1 - high) - math.log(1 - low)))
            else:
                point.append((number - low) / (high - low))
        return point

    def _initial_points(self) -> int:
        return max(2, min(5, len(self.space) + 1))

    def _encode(self, unit: Sequence[float]) -> list[float]:
        """Model features: numbers as they are, categoricals one-hot (their order means nothing)."""
        features: list[float] = []
        for r, u in zip(self.space, unit, strict=True):
            if r.kind == "Categorical":
                index = min(int(u * len(r.values)), len(r.values) - 1)
                features += [1.0 if i == index else 0.0 for i in range(len(r.values))]
            else:
                features.append(u)
        return features

    def _expected_improvement_pick(self, candidates: int = 256) -> list[float]:
        import numpy as np
        from scipy.stats import norm
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.array([self._encode(point) for point, _ in self.seen])
        y = np.array([value for _, value in self.seen])
        scale = y.std() or 1.0
        y_scaled = (y - y.mean()) / scale
        kernel = ConstantKernel(1.0) * Matern(nu=2.5) + WhiteKernel(1e-3)
        model = GaussianProcessRegressor(kernel, normalize_y=False, random_state=self.random.randrange(2**31))
        with warnings.catch_warnings():  # a length scale at its bound on a handful of points is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y_scaled)
        pool = [[self.random.random() for _ in self.space] for _ in range(candidates)]
        mean, std = model.predict(np.array([self._encode(p) for p in pool]), return_std=True)
        best = y_scaled.min()
        std = np.maximum(std, 1e-9)
        z = (best - mean) / std
        improvement = (best - mean) * norm.cdf(z) + std * norm.pdf(z)
        return pool[int(np.argmax(improvement))]
