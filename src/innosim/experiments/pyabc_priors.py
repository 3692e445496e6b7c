"""pyabc pieces that draw from innosim's own generator (used by
:mod:`innosim.experiments.calibrate`; imported only when the abc method runs, since importing
pyabc takes seconds).

pyabc's ``RV`` priors and ``MultivariateNormalTransition`` draw from numpy's global generator;
these draw from ``streams.gen``, a :class:`numpy.random.Generator` that the calibration resets
for every (seed, generation, slot), so a population is reproducible whatever the number of
worker processes.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyabc
from pyabc.random_variables import RVBase

__all__ = ["SeededKernel", "SeededUniform"]


class Streams(Protocol):
    gen: np.random.Generator


class SeededUniform(RVBase):
    """Uniform prior on ``[low, high]`` drawing from ``streams.gen`` (pyabc's ``RV`` draws
    from numpy's global generator)."""

    def __init__(self, low: float, high: float, streams: Streams) -> None:
        self.low, self.high, self.streams = float(low), float(high), streams

    def copy(self) -> SeededUniform:
        return SeededUniform(self.low, self.high, self.streams)

    def rvs(self, *args: Any, **kwargs: Any) -> float:
        return float(self.streams.gen.uniform(self.low, self.high))

    def pmf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        return 0.0

    def pdf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        inside = self.low <= float(x) <= self.high
        return 1.0 / (self.high - self.low) if inside else 0.0

    def cdf(self, x: Any, *args: Any, **kwargs: Any) -> float:
        return float(np.clip((float(x) - self.low) / (self.high - self.low), 0.0, 1.0))

    def __repr__(self) -> str:
        return f"<SeededUniform [{self.low}, {self.high}]>"


class SeededKernel(pyabc.MultivariateNormalTransition):
    """pyabc's Gaussian perturbation kernel drawing from ``streams.gen``."""

    def __init__(self, streams: Streams) -> None:
        super().__init__()
        self.streams = streams

    def rvs_single(self) -> Any:
        gen = self.streams.gen
        i = int(gen.choice(len(self.w), p=self.w / self.w.sum()))
        step = gen.multivariate_normal(np.zeros(self.cov.shape[0]), self.cov)
        return pyabc.Parameter(self.X.iloc[i] + step)

    def rvs(self, size: int | None = None) -> Any:
        if size is None:
            return self.rvs_single()
        gen = self.streams.gen
        idx = gen.choice(len(self.w), size=size, p=self.w / self.w.sum())
        steps = gen.multivariate_normal(np.zeros(self.cov.shape[0]), self.cov, size=size)
        return self.X.iloc[idx] + steps
