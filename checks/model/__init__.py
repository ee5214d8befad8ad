"""The path model: what the claims compute with and read, shared by several claims, naming none.

=============  ==========================================================================
``examples``   the examples of the property checks (strategies, specs, cached solves)
``tol``        the suite's tolerances, each with its derivation
``fd``         kink-aware finite differences along a direction in A-space
``paths``      trajectories: setting and plan, keys (tasks), generic series, summaries
``observers``  the observer interface through which a claim records more along a path
``predicates`` predicates on recorded paths that several claims read
``digits``     the real-data examples (digit pairs, label noise)
``panel``      data sets with controlled λ∞, the width ladder, their limits λ∞
``calibration`` a width law calibrated on the panel, thresholds, curtailed confirmations
=============  ==========================================================================
"""
