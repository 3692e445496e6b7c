"""The model's mechanisms, one module each: the rule, its claims and references, its code.

Each module opens with its rule (equations), the claims of the source article (C1-C12) it
represents and its references, and holds the only implementation of that rule. A module
exposes ``NAME`` and either ``step(state, params, rng)`` (NumPy over the state's tables:
policy, place, talent, careers, chains) or ``make(params, rng) -> step`` (a compiled Numba
kernel, prepared once per run: waves, founding, orientation, growth, finance, exits,
accounting). Their order is set once, in :data:`innosim.model.MECHANISMS`; only the run loop
(:func:`innosim.model.runner`) advances time. This package imports nothing of its own at import:
import the mechanism you need, e.g. ``from innosim.mechanisms import founding``.
"""
