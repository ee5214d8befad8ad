"""Top-level pytest configuration: Hypothesis profiles, one BLAS thread per worker,
evidence collection and the merge into reports/verification.json."""

from __future__ import annotations

import os

# One BLAS thread per process, set before NumPy loads its BLAS: with xdist each worker is a
# process, and a fixed thread count also fixes the summation order (determinism).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# All profiles are derandomised with no example database: the same code gives the same
# examples, verdicts and numbers on every run and under any -n.  'explore' is the one
# random profile, for hunting new counterexamples by hand.
_common = dict(deadline=None, print_blob=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, derandomize=True, **_common)
settings.register_profile("ci", max_examples=120, derandomize=True, **_common)
settings.register_profile("thorough", max_examples=1000, derandomize=True, **_common)
settings.register_profile("explore", max_examples=1000, derandomize=False, **_common)
settings.load_profile(os.environ.get("IMPLICIT_HYPOTHESIS_PROFILE", "dev"))


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running sweep or high-precision check (thorough profile)")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is a test dependency
        pass
    if _is_controller(config):
        from checks import evidence

        evidence.reset()


def pytest_sessionfinish(session, exitstatus):
    if not _is_controller(session.config):
        return
    from checks import evidence, report_data

    entries = evidence.load_spool()
    if not entries:
        return
    path = report_data.write_verification(entries, profile=settings.get_current_profile_name())
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"evidence: {len(entries)} check results merged into {path}")
