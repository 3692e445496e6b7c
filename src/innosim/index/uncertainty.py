"""Step 9 of the JRC handbook: uncertainty (Monte Carlo) and sensitivity (Sobol) of the ranks.

One evaluation of the index is :func:`compute` with a set of methodological choices: the
normalisation method, the imputation method (applied to the normalised values, so that the
pillar mean is meaningful), the aggregation method and the indicator and pillar weights. The
outlier treatment is applied once, before, and is not varied.

The uncertain inputs are five *factors*, each driven by one number ``u`` in ``[0, 1)``:

===================  =======================================================================
factor               ``u`` picks
===================  =======================================================================
``imputation``       one of :attr:`Uncertainty.imputations` (``floor(u * n)``)
``normalisation``    one of :attr:`Uncertainty.normalisations`
``aggregation``      one of :attr:`Uncertainty.aggregations`
``weights``          one of a bank of perturbed indicator weight vectors: nominal weight times
                     ``U(1 - d, 1 + d)`` independently per indicator, ``d = weight_noise``,
                     then re-normalised within each pillar
``pillar_weights``   one of a bank of perturbed pillar weight vectors (``pillar_weight_noise``)
===================  =======================================================================

The banks are drawn from the seed, so an analysis is deterministic given its seed. A factor
with one option (or zero noise) is fixed at its nominal value; with every factor fixed the
Monte Carlo reproduces the nominal ranks exactly (tested).

:func:`monte_carlo` draws ``u`` uniformly and reports each unit's median rank and its 5-95 %
interval. :func:`sobol` estimates first-order and total Sobol indices (Saltelli sampling,
Jansen/Saltelli estimators, via SALib) of the mean absolute rank shift from the nominal ranks
(one number per draw, as in COINr) and of each unit's rank.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from innosim.errors import InputError
from innosim.index import aggregate as agg
from innosim.index import impute as imp
from innosim.index import normalise as norm
from innosim.index.framework import Framework, framework_weights
from innosim.validation import Arg, Interval, Satisfies, validate_params

__all__ = [
    "FACTORS",
    "Choices",
    "MonteCarlo",
    "Uncertainty",
    "compute",
    "monte_carlo",
    "sobol",
    "sobol_indices",
]

#: The factors of the uncertainty analysis, in order (columns of ``u``).
FACTORS: tuple[str, ...] = (
    "imputation",
    "normalisation",
    "aggregation",
    "weights",
    "pillar_weights",
)
_MC_NORMALISATIONS = ("minmax", "zscore", "rank", "distance_to_frontier")


@dataclass(frozen=True)
class Choices:
    """The nominal methodological choices of the index."""

    imputation: str = "none"
    normalisation: str = "minmax"
    aggregation: str = "arithmetic"

    def __post_init__(self) -> None:
        _check_option("imputation", self.imputation, imp.METHODS)
        _check_option("normalisation", self.normalisation, _MC_NORMALISATIONS)
        _check_option("aggregation", self.aggregation, agg.METHODS)


@dataclass(frozen=True)
class Uncertainty:
    """What the uncertainty analysis varies, and how much.

    Parameters
    ----------
    imputations, normalisations, aggregations : tuple of str
        Alternatives drawn with equal probability.
    weight_noise : float
        Half-width ``d`` of the multiplicative uniform perturbation ``U(1-d, 1+d)`` of every
        indicator weight (0 keeps the nominal weights); in ``[0, 1]``.
    pillar_weight_noise : float
        The same for the pillar weights.
    """

    imputations: tuple[str, ...] = ("none", "mean", "median", "pillar_mean")
    normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")
    weight_noise: float = 0.25
    pillar_weight_noise: float = 0.25

    def __post_init__(self) -> None:
        for name, opts, allowed in (
            ("imputations", self.imputations, imp.METHODS),
            ("normalisations", self.normalisations, _MC_NORMALISATIONS),
            ("aggregations", self.aggregations, agg.METHODS),
        ):
            object.__setattr__(self, name, tuple(opts))
            if not opts:
                raise InputError(f"no {name} to draw from", field=name, expected="at least one")
            for o in opts:
                _check_option(name, o, allowed)
        for name in ("weight_noise", "pillar_weight_noise"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= float(v) <= 1.0):
                raise InputError(f"bad {name}", field=name, value=v, expected="a number in [0, 1]")

    @classmethod
    def fixed(cls, nominal: Choices | None = None) -> Uncertainty:
        """No perturbation at all: every factor fixed at the nominal choice."""
        c = nominal or Choices()
        return cls((c.imputation,), (c.normalisation,), (c.aggregation,), 0.0, 0.0)

    def options(self, factor: str) -> tuple[str, ...]:
        return {
            "imputation": self.imputations,
            "normalisation": self.normalisations,
            "aggregation": self.aggregations,
        }[factor]


def _check_option(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InputError(
            f"unknown {name.rstrip('s')} method",
            field=name,
            value=value,
            expected=", ".join(allowed),
        )


# --------------------------------------------------------------------------- one evaluation


def compute(
    X: pd.DataFrame,
    framework: Framework,
    choices: Choices | None = None,
    weights: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The index under one set of choices.

    Steps: normalise (directions applied; min-max onto ``[0, 100]``), impute the normalised
    values, aggregate (geometric: every value shifted by ``max(0, 1 - min)`` so that all are
    positive; ranks are what matters under uncertainty).

    Parameters
    ----------
    X : DataFrame
        Raw (outlier-treated) data, units x the framework's indicators.
    framework : Framework
        Its ``pillar_weights`` weigh the pillars.
    choices : Choices, optional
        Default: :class:`Choices` (no imputation, min-max, arithmetic).
    weights : Series, optional
        Indicator weights (default: the framework's nominal weights).

    Returns
    -------
    scores : DataFrame
        Columns: sub-pillars (``Pillar/Sub``), pillars, ``overall``.
    X_normalised : DataFrame
        The normalised (and imputed) indicators.
    """
    c = choices or Choices()
    framework.check_columns(X)
    X = X[framework.names]
    w = framework_weights(framework) if weights is None else weights
    Xn = norm.normalise(X, c.normalisation, framework.directions)
    Xi, _ = imp.impute(Xn, c.imputation, framework)
    shift = 0.0
    if c.aggregation == "geometric":
        lo = np.nanmin(Xi.to_numpy(dtype=float)) if Xi.notna().to_numpy().any() else 1.0
        shift = max(0.0, 1.0 - float(lo))
    scores = agg.aggregate(Xi, framework, c.aggregation, w, shift=shift, subpillars=True)
    return scores, Xi


# --------------------------------------------------------------------------- factors


@dataclass
class _Evaluator:
    """Maps rows of ``u`` (one per draw, one column per factor) to overall scores."""

    X: pd.DataFrame
    framework: Framework
    spec: Uncertainty
    weight_bank: np.ndarray  # (B, n_indicators)
    pillar_bank: np.ndarray  # (B, n_pillars)
    _cache: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)

    def choose(self, u: np.ndarray) -> tuple[Choices, int, int]:
        def pick(opts: Sequence[str], x: float) -> str:
            return opts[min(int(x * len(opts)), len(opts) - 1)]

        c = Choices(
            imputation=pick(self.spec.imputations, u[0]),
            normalisation=pick(self.spec.normalisations, u[1]),
            aggregation=pick(self.spec.aggregations, u[2]),
        )
        wi = min(int(u[3] * len(self.weight_bank)), len(self.weight_bank) - 1)
        pi = min(int(u[4] * len(self.pillar_bank)), len(self.pillar_bank) - 1)
        return c, wi, pi

    def treated(self, c: Choices) -> pd.DataFrame:
        """Normalised and imputed data (cached per normalisation x imputation)."""
        key = (c.normalisation, c.imputation)
        if key not in self._cache:
            Xn = norm.normalise(self.X, c.normalisation, self.framework.directions)
            self._cache[key], _ = imp.impute(Xn, c.imputation, self.framework)
        return self._cache[key]

    def overall(self, u: np.ndarray) -> np.ndarray:
        c, wi, pi = self.choose(u)
        Xi = self.treated(c)
        shift = 0.0
        if c.aggregation == "geometric":
            vals = Xi.to_numpy(dtype=float)
            lo = np.nanmin(vals) if np.isfinite(vals).any() else 1.0
            shift = max(0.0, 1.0 - float(lo))
        fw = self.framework
        pw = dict(zip(fw.pillars, self.pillar_bank[pi], strict=True))
        fw_i = replace(fw, pillar_weights=pw)
        w = pd.Series(self.weight_bank[wi], index=fw.names)
        return agg.aggregate(Xi, fw_i, c.aggregation, w, shift=shift)["overall"].to_numpy()


def _banks(
    framework: Framework, spec: Uncertainty, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` perturbed indicator weight vectors and pillar weight vectors (row 0 nominal)."""
    w0 = framework_weights(framework).to_numpy()
    p0 = framework.overall_weights().to_numpy()
    pillar_idx = framework.pillar_of.map({p: k for k, p in enumerate(framework.pillars)})
    pillar_idx = pillar_idx.to_numpy(dtype=int)
    dw, dp = float(spec.weight_noise), float(spec.pillar_weight_noise)
    W = w0 * rng.uniform(1.0 - dw, 1.0 + dw, size=(size, len(w0)))
    sums = np.zeros((size, len(framework.pillars)))
    for k in range(len(framework.pillars)):
        sums[:, k] = W[:, pillar_idx == k].sum(axis=1)
    W = W / np.where(sums[:, pillar_idx] > 0, sums[:, pillar_idx], 1.0)
    P = p0 * rng.uniform(1.0 - dp, 1.0 + dp, size=(size, len(p0)))
    P = P / P.sum(axis=1, keepdims=True)
    if dw == 0.0:
        W[:] = w0
    if dp == 0.0:
        P[:] = p0
    return W, P


def _evaluator(
    X: pd.DataFrame, framework: Framework, spec: Uncertainty, bank: int, seed: int | None
) -> _Evaluator:
    framework.check_columns(X)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(1)[0]))
    W, P = _banks(framework, spec, bank, rng)
    return _Evaluator(X[framework.names].astype(float), framework, spec, W, P)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of each row of a (draws x units) array, ties 'min', NaN last."""
    s = np.where(np.isfinite(scores), scores, -np.inf)
    return (s[:, None, :] > s[:, :, None]).sum(axis=2) + 1


# --------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarlo:
    """Result of :func:`monte_carlo`.

    Attributes
    ----------
    summary : DataFrame
        Index: units; columns ``rank`` (nominal), ``rank_median``, ``rank_low`` (5th
        percentile, an observed rank), ``rank_high`` (95th percentile). Scores are not
        summarised: draws with different normalisations have different scales.
    ranks : DataFrame
        Draws x units, the overall rank in every draw.
    scores : DataFrame
        Draws x units, the overall score in every draw.
    draws : DataFrame
        One row per draw: the imputation, normalisation and aggregation used and the indices
        of the weight vectors in the banks.
    """

    summary: pd.DataFrame
    ranks: pd.DataFrame
    scores: pd.DataFrame
    draws: pd.DataFrame


@validate_params(
    {
        "draws": Arg([Interval(Integral, 1, None)], problem="bad number of draws"),
        "seed": Arg([None, Interval(Integral, 0, 2**63, closed="left")]),
        "level": Arg([Interval(Real, 0.0, 1.0, closed="neither")], problem="bad interval level"),
    }
)
def monte_carlo(
    X: pd.DataFrame,
    framework: Framework,
    uncertainty: Uncertainty | None = None,
    *,
    draws: int = 1000,
    seed: int | None = 0,
    nominal: Choices | None = None,
    level: float = 0.90,
) -> MonteCarlo:
    """Monte Carlo uncertainty analysis of the overall ranks.

    Parameters
    ----------
    X : DataFrame
        Raw (outlier-treated) indicators, units x the framework's indicators.
    framework : Framework
    uncertainty : Uncertainty, optional
        What to vary (default :class:`Uncertainty`).
    draws : int
        Number of draws (>= 1).
    seed : int, optional
        Seed of the draws and the weight banks; same seed, same result.
    nominal : Choices, optional
        The nominal choices whose ranks are reported as ``rank``.
    level : float
        Width of the rank interval (0.90: 5th to 95th percentile).

    Returns
    -------
    MonteCarlo
    """
    spec = uncertainty or Uncertainty()
    ev = _evaluator(X, framework, spec, max(draws, 2), seed)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(2)[1]))
    U = rng.random((draws, len(FACTORS)))
    S = np.vstack([ev.overall(u) for u in U])
    R = _ranks(S)
    nominal_scores, _ = compute(X, framework, nominal)
    units = X.index
    a = (1.0 - level) / 2.0
    summary = pd.DataFrame(
        {
            "rank": agg.ranks(nominal_scores["overall"]),
            "rank_median": np.median(R, axis=0),
            "rank_low": np.quantile(R, a, axis=0, method="lower").astype(int),
            "rank_high": np.quantile(R, 1.0 - a, axis=0, method="higher").astype(int),
        },
        index=units,
    )
    rows = []
    for u in U:
        c, wi, pi = ev.choose(u)
        rows.append(
            {
                "imputation": c.imputation,
                "normalisation": c.normalisation,
                "aggregation": c.aggregation,
                "weights": wi,
                "pillar_weights": pi,
            }
        )
    return MonteCarlo(
        summary=summary,
        ranks=pd.DataFrame(R, columns=units),
        scores=pd.DataFrame(S, columns=units),
        draws=pd.DataFrame(rows),
    )


# --------------------------------------------------------------------------- Sobol


POWER_OF_TWO = Satisfies(
    lambda n: isinstance(n, Integral) and not isinstance(n, bool) and n >= 2 and n & (n - 1) == 0,
    "a power of 2 >= 2",
)
SOBOL_N = Arg([POWER_OF_TWO], problem="bad Sobol base sample size")
"""Constraint of a Sobol base sample size."""


@validate_params({"n": SOBOL_N})
def sobol_indices(
    func: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    *,
    n: int = 256,
    seed: int | None = 0,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``func`` over ``[0, 1)^k`` (SALib).

    Parameters
    ----------
    func : callable
        Maps a ``(N, k)`` array of inputs to a ``(N,)`` or ``(N, m)`` array of outputs.
    names : sequence of str
        The ``k`` factor names.
    n : int
        Base sample size (a power of 2); ``n * (k + 2)`` evaluations.
    seed : int, optional

    Returns
    -------
    DataFrame
        Columns ``output`` (0..m-1), ``factor``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (95 % bootstrap half-widths). An output with zero variance gets S1 = ST = 0.
    """
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    U = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    U = np.clip(U, 0.0, np.nextafter(1.0, 0.0))
    Y = np.asarray(func(U), dtype=float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    rows = []
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if not np.all(np.isfinite(y)) or np.var(y) == 0.0:
            zero = 0.0 if np.all(np.isfinite(y)) else np.nan
            res = {"S1": [zero] * len(names), "S1_conf": [0.0] * len(names)}
            res |= {"ST": [zero] * len(names), "ST_conf": [0.0] * len(names)}
        else:
            with warnings.catch_warnings():
                # SALib warns when some resampled subsets are constant (common with ranks)
                warnings.simplefilter("ignore", UserWarning)
                res = sobol_analyze.analyze(
                    problem, y, calc_second_order=False, print_to_console=False, seed=seed
                )
        for k, name in enumerate(names):
            rows.append(
                {
                    "output": j,
                    "factor": name,
                    "S1": float(res["S1"][k]),
                    "S1_conf": float(res["S1_conf"][k]),
                    "ST": float(res["ST"][k]),
                    "ST_conf": float(res["ST_conf"][k]),
                }
            )
    return pd.DataFrame(rows)


def sobol(
    X: pd.DataFrame,
    framework: Framework,
    uncertainty: Uncertainty | None = None,
    *,
    n: int = 256,
    seed: int | None = 0,
    nominal: Choices | None = None,
) -> pd.DataFrame:
    """Sobol sensitivity of the ranks to the factors of :data:`FACTORS`.

    Outputs: ``mean_abs_rank_shift`` (mean over units of ``|rank - nominal rank|``, COINr's
    summary) and every unit's rank.

    Returns
    -------
    DataFrame
        Columns ``output``, ``factor``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    spec = uncertainty or Uncertainty()
    ev = _evaluator(X, framework, spec, 256, seed)
    nominal_scores, _ = compute(X, framework, nominal)
    r0 = agg.ranks(nominal_scores["overall"]).to_numpy(dtype=float)

    def f(U: np.ndarray) -> np.ndarray:
        R = _ranks(np.vstack([ev.overall(u) for u in U])).astype(float)
        shift = np.abs(R - r0).mean(axis=1)
        return np.column_stack([shift, R])

    out = sobol_indices(f, FACTORS, n=n, seed=seed)
    labels = ["mean_abs_rank_shift", *map(str, X.index)]
    out["output"] = out["output"].map(dict(enumerate(labels)))
    return out
