"""Test oracles: the NumPy implementations of the compiled core mechanisms' rules.

innosim's core mechanisms (``innosim.mechanisms``: waves, founding, orientation, growth,
finance, exits, accounting) are Numba kernels, and each rule has exactly one implementation in
``src/``. The modules here are the NumPy implementations those kernels replaced (innosim <= 0.1
shipped them as the "numpy" backend), kept outside the package as independent oracles, as the
Mesa reference in ``benchmarks/`` is: ``tests/_fast.both`` applies an oracle's ``step`` and the
kernel to copies of one state and the tests compare the results. Each module's docstring says
which rule it implements; the rule's text lives with the kernel.
"""
