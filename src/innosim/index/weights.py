"""Step 6 of the JRC handbook: the indicator framework and its weights.

The framework says, for every indicator, which pillar (and optionally which sub-pillar) it
belongs to, its direction (+1: more is better, -1: less is better) and its nominal weight. The
weighting schemes return one :class:`pandas.Series` of indicator weights that sum to 1 within
each pillar, so that they can be swapped in a Monte Carlo loop.

Schemes
-------
- :func:`equal` -- every indicator of a pillar weighs ``1 / n_pillar``.
- :func:`pca_weights` -- JRC/Nicoletti style: squared loadings of the retained principal
  components of each pillar's (standardised) indicators.
- :func:`user` -- weights given by the user, validated against the framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from innosim.errors import InputError

__all__ = [
    "PILLARS",
    "Framework",
    "Indicator",
    "equal",
    "framework_weights",
    "pca_weights",
    "user",
]

#: The pillars of the TOP frame, in display order.
PILLARS: tuple[str, ...] = ("Talent", "Organization", "Place")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the framework.

    Parameters
    ----------
    name : str
        Column name in the data matrix ``X``.
    pillar : str
        Pillar it is aggregated into (``Talent``, ``Organization`` or ``Place`` in the TOP frame).
    sub_pillar : str or None
        Optional sub-pillar; indicators without one form one unnamed sub-pillar of the pillar.
    direction : int
        ``+1`` when more is better, ``-1`` when less is better.
    weight : float
        Nominal (user) weight; non-negative.
    """

    name: str
    pillar: str
    sub_pillar: str | None = None
    direction: int = 1
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise InputError(
                f"indicator {self.name!r} has direction {self.direction!r}",
                field=f"{self.name}.direction",
                value=self.direction,
                expected="+1 or -1",
            )
        w = float(self.weight)
        if not np.isfinite(w) or w < 0:
            raise InputError(
                f"indicator {self.name!r} has weight {self.weight!r}",
                field=f"{self.name}.weight",
                value=self.weight,
                expected="a finite number >= 0",
            )


@dataclass(frozen=True)
class Framework:
    """An indicator framework: indicators grouped into pillars (and sub-pillars).

    Parameters
    ----------
    indicators : tuple of Indicator
        The indicators, in order; names must be unique.
    pillar_weights : mapping of str to float, optional
        Weights of the pillars in the overall score; equal when omitted.
    """

    indicators: tuple[Indicator, ...]
    pillar_weights: Mapping[str, float] | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))
        if not self.indicators:
            raise InputError("the framework has no indicators", expected="at least one")
        names = [i.name for i in self.indicators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(
                f"duplicate indicators in the framework: {', '.join(dup)}",
                value=dup,
                expected="unique indicator names",
            )
        if self.pillar_weights is not None:
            pw = dict(self.pillar_weights)
            _check_keys(
                pw,
                self.pillars,
                "pillar weights do not match the pillars",
                "",
                field="pillar_weights",
                value=pw,
                expected=f"one weight for each of {', '.join(self.pillars)}",
            )
            vals = np.array(list(pw.values()), dtype=float)
            if not np.all(np.isfinite(vals)) or np.any(vals < 0) or vals.sum() <= 0:
                raise InputError(
                    "pillar weights must be finite, non-negative and not all zero",
                    field="pillar_weights",
                    value=pw,
                    expected="finite numbers >= 0 with a positive sum",
                )

    @classmethod
    def from_dict(
        cls,
        spec: Mapping[str, Mapping[str, object] | str],
        pillar_weights: Mapping[str, float] | None = None,
    ) -> Framework:
        """Build a framework from ``{indicator: {"pillar": ..., "direction": ..., ...}}``.

        A value may also be just the pillar name (direction +1, weight 1).
        """
        items = []
        for name, v in spec.items():
            if isinstance(v, str):
                items.append(Indicator(name=name, pillar=v))
                continue
            unknown = sorted(set(v) - {"pillar", "sub_pillar", "direction", "weight"})
            if unknown or "pillar" not in v:
                raise InputError(
                    f"bad framework entry for indicator {name!r}"
                    + (f"; unknown keys: {', '.join(unknown)}" if unknown else "; no pillar"),
                    field=name,
                    value=dict(v),
                    expected="keys pillar, and optionally sub_pillar, direction, weight",
                )
            items.append(
                Indicator(
                    name=name,
                    pillar=str(v["pillar"]),
                    sub_pillar=None if v.get("sub_pillar") is None else str(v["sub_pillar"]),
                    direction=int(v.get("direction", 1)),  # type: ignore[call-overload]
                    weight=float(v.get("weight", 1.0)),  # type: ignore[arg-type]
                )
            )
        return cls(tuple(items), pillar_weights)

    @property
    def names(self) -> list[str]:
        """Indicator names, in framework order."""
        return [i.name for i in self.indicators]

    @property
    def pillars(self) -> list[str]:
        """Pillar names: those of :data:`PILLARS` first in that order, then others as met."""
        seen = list(dict.fromkeys(i.pillar for i in self.indicators))
        return [p for p in PILLARS if p in seen] + [p for p in seen if p not in PILLARS]

    @property
    def pillar_of(self) -> pd.Series:
        """Series indicator -> pillar."""
        return pd.Series({i.name: i.pillar for i in self.indicators}, dtype=object)

    @property
    def group_of(self) -> pd.Series:
        """Series indicator -> sub-pillar (``""`` when none)."""
        return pd.Series({i.name: i.sub_pillar or "" for i in self.indicators}, dtype=object)

    @property
    def directions(self) -> pd.Series:
        """Series indicator -> direction (+1 / -1)."""
        return pd.Series({i.name: i.direction for i in self.indicators}, dtype=int)

    def members(self, pillar: str) -> list[str]:
        """Indicators of ``pillar``, in framework order."""
        return [i.name for i in self.indicators if i.pillar == pillar]

    def overall_weights(self) -> pd.Series:
        """Pillar weights in the overall score, summing to 1."""
        if self.pillar_weights is None:
            w = pd.Series(1.0, index=self.pillars)
        else:
            w = pd.Series({p: float(self.pillar_weights[p]) for p in self.pillars})
        return w / w.sum()

    def check_columns(self, X: pd.DataFrame) -> None:
        """Raise :class:`InputError` when an indicator of the framework is not a column of X."""
        missing = [n for n in self.names if n not in X.columns]
        if missing:
            raise InputError(
                f"indicators of the framework missing from the data: {', '.join(missing)}",
                value=missing,
                expected=f"columns {', '.join(self.names)}",
            )


def _normalise_within_pillar(w: pd.Series, framework: Framework) -> pd.Series:
    w = w.reindex(framework.names).astype(float)
    sums = w.groupby(framework.pillar_of).transform("sum")
    return w / sums


def equal(framework: Framework) -> pd.Series:
    """Equal weights: ``1 / n_p`` for each of the ``n_p`` indicators of pillar ``p``.

    Parameters
    ----------
    framework : Framework

    Returns
    -------
    pandas.Series
        Indicator -> weight; sums to 1 within each pillar.
    """
    return _normalise_within_pillar(pd.Series(1.0, index=framework.names), framework)


def framework_weights(framework: Framework) -> pd.Series:
    """The nominal weights written in the framework, validated and normalised within pillars."""
    return user({i.name: i.weight for i in framework.indicators}, framework, require_sum=False)


def user(
    weights: Mapping[str, float] | pd.Series,
    framework: Framework,
    *,
    require_sum: bool = True,
    tol: float = 1e-6,
) -> pd.Series:
    """Validate user-given indicator weights.

    Parameters
    ----------
    weights : mapping or Series
        Indicator -> weight, one for every indicator of the framework and no other.
    framework : Framework
    require_sum : bool
        When true the weights of each pillar must already sum to 1 (within ``tol``); when false
        they are rescaled to do so.
    tol : float
        Tolerance on the pillar sums.

    Returns
    -------
    pandas.Series
        Indicator -> weight in framework order, summing to 1 within each pillar.

    Raises
    ------
    InputError
        Unknown or missing indicators, negative / non-finite weights, a pillar whose weights sum
        to 0 or (with ``require_sum``) not to 1.
    """
    w = pd.Series(dict(weights), dtype=float)
    _check_keys(
        w.index,
        framework.names,
        "weights do not match the framework",
        " indicators",
        field="weights",
        expected="one weight for every indicator of the framework",
    )
    w = w.reindex(framework.names)
    bad = w[~np.isfinite(w.to_numpy()) | (w.to_numpy() < 0)]
    if len(bad):
        raise InputError(
            f"weights must be finite and >= 0; bad: {', '.join(map(str, bad.index))}",
            field="weights",
            value=bad.to_dict(),
            expected="finite numbers >= 0",
        )
    sums = w.groupby(framework.pillar_of).sum()
    zero = sums[sums <= 0]
    if len(zero):
        raise InputError(
            f"weights of pillar(s) {', '.join(zero.index)} sum to 0",
            field="weights",
            value=zero.to_dict(),
            expected="a positive sum within each pillar",
        )
    if require_sum:
        off = sums[(sums - 1.0).abs() > tol]
        if len(off):
            raise InputError(
                "weights do not sum to 1 within pillar(s) "
                + ", ".join(f"{p} (sum {s:.6g})" for p, s in off.items()),
                field="weights",
                value=off.to_dict(),
                expected="weights summing to 1 within each pillar",
            )
    return _normalise_within_pillar(w, framework)


def pca_weights(
    X_normalised: pd.DataFrame,
    framework: Framework,
    *,
    n_components: int | None = 1,
) -> pd.Series:
    """PCA-based weights, pillar by pillar (JRC / Nicoletti et al. style, without rotation).

    For each pillar, the principal components of the correlation matrix of its indicators
    (complete cases) are computed. With ``L_jc = v_jc * sqrt(lambda_c)`` the loading of
    indicator ``j`` on component ``c``, the weight is

    ``w_j = sum_c s_c * L_jc**2 / sum_i L_ic**2``,  ``s_c = lambda_c / sum_{c' retained} lambda_c'``

    over the retained components, then normalised to sum 1 within the pillar. With one
    component this is ``v_j1**2``, the squared entries of the first eigenvector.

    Parameters
    ----------
    X_normalised : DataFrame
        Normalised data (units x indicators); only the framework's indicators are used.
    framework : Framework
    n_components : int or None
        Components retained per pillar; ``None`` keeps those with eigenvalue > 1 (Kaiser rule,
        at least one).

    Returns
    -------
    pandas.Series
        Indicator -> weight, summing to 1 within each pillar. A single-indicator pillar gets 1.

    Raises
    ------
    InputError
        Fewer than three complete rows in a pillar with several indicators.
    """
    from innosim.index.coherence import pca_summary

    framework.check_columns(X_normalised)
    out = pd.Series(np.nan, index=framework.names, dtype=float)
    for pillar in framework.pillars:
        cols = framework.members(pillar)
        if len(cols) == 1:
            out[cols[0]] = 1.0
            continue
        res = pca_summary(X_normalised[cols])
        lam = res.eigenvalues.to_numpy()
        if n_components is None:
            k = max(1, int(np.sum(lam > 1.0)))
        else:
            k = max(1, min(int(n_components), len(lam)))
        lam_k = np.clip(lam[:k], 0.0, None)
        sq = res.loadings.to_numpy()[:, :k] ** 2
        colsum = sq.sum(axis=0)
        share = lam_k / lam_k.sum() if lam_k.sum() > 0 else np.full(k, 1.0 / k)
        w = (sq / np.where(colsum > 0, colsum, 1.0)) @ share
        out[cols] = w / w.sum() if w.sum() > 0 else 1.0 / len(cols)
    return out


def _check_keys(
    given: Iterable[str], wanted: Sequence[str], problem: str, noun: str, **error: Any
) -> None:
    """Raise InputError when ``given`` has names not in ``wanted`` or misses some of them."""
    given = list(given)
    unknown = sorted(set(given) - set(wanted))
    missing = [n for n in wanted if n not in given]
    if unknown or missing:
        raise InputError(
            problem
            + (f"; unknown{noun}: {', '.join(unknown)}" if unknown else "")
            + (f"; missing{noun}: {', '.join(missing)}" if missing else ""),
            **error,
        )
