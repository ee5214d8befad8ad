"""Executable checks of the claims of Gao & Gao (arXiv 2209.15562), in three rooms (docs/architecture.md):

* :mod:`checks.claims`: one module per claim family: its checks, controls, observers and logic;
* :mod:`checks.engine`: the verification engine, which names no claim (registry, runner, verdict
  types, rules, margins, profiles, tasks, executor, evidence, report data, readme, replay);
* :mod:`checks.model`: the path model shared by the claims (examples, tolerances, finite
  differences, trajectories, observers, the predicates several claims read).

``checks/test_claims.py`` runs every registered check as one pytest item; ``checks/tests/`` holds
the unit tests of theory/, the engine and the model.  ``python -m checks.replay`` and
``python -m checks.readme`` are the package's command line.
"""
