"""Policy levers on a timeline (claims C7, C9, C10, C12).

Rule. Every city parameter declared as a *lever* (procurement budget, subsidies, failure
tolerance, stigma and restart cost, process control, support for private and small firms, labs
and compute investment, talent programmes, demand mix, investors' risk appetite) has a base value
from the scenario. Each tick the scenario's ``[[policy]]`` entries that are active
(``year <= t < until``) are applied in file order — ``set`` replaces the value, ``add`` adds to
it, ``scale`` multiplies it — and the result is clipped to the lever's declared bounds. The other
mechanisms read levers only from ``state.levers``, so a policy change reaches founding, finance,
migration and infrastructure with whatever delay those mechanisms imply (C12: a temporary push
may or may not tip a city into the other loop).

References: Isenberg (2010) — policy as one domain of the ecosystem; Armour and Cumming (2008)
on bankruptcy law; Stam and van de Ven (2021).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State
from innosim.params.declarations import BY_NAME, LEVERS

NAME = "policy"


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    t = state.t
    for lever in LEVERS:
        getattr(state.levers, lever)[:] = getattr(params.c, lever)
    active = (params.policy_start <= t) & (t < params.policy_end)
    for i in np.flatnonzero(active):  # loop over policy entries, not agents
        lever = params.policy_lever[i]
        arr = getattr(state.levers, lever)
        sel = slice(None) if params.policy_city[i] < 0 else params.policy_city[i]
        mode, v = params.policy_mode[i], params.policy_value[i]
        if mode == "set":
            arr[sel] = v
        elif mode == "add":
            arr[sel] = arr[sel] + v
        else:
            arr[sel] = arr[sel] * v
        spec = BY_NAME[lever]
        np.clip(arr, spec.low, spec.high, out=arr)
