"""Task runner.  `nox -l` lists the sessions; each docstring shows an example call."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

BLAS_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _profile(default: str) -> dict[str, str]:
    return {**BLAS_ONE_THREAD, "IMPLICIT_HYPOTHESIS_PROFILE": os.environ.get("IMPLICIT_HYPOTHESIS_PROFILE", default)}


@nox.session
def tests(session: nox.Session) -> None:
    """Fast claim checks (profile 'ci' under CI, else 'dev'). Example: nox -s tests -- -k c2"""
    session.install("-e", ".[test]")
    default = "ci" if os.environ.get("CI") else "dev"
    session.run("pytest", *(session.posargs or ["-n", "auto"]), env=_profile(default))


@nox.session
def thorough(session: nox.Session) -> None:
    """Every check under the 'thorough' profile (1000 examples each, full sweeps). Example: nox -s thorough"""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", "--claim-progress", *session.posargs, env=_profile("thorough"))


@nox.session
def report(session: nox.Session) -> None:
    """Run the suite and write reports/index.html + verification.json.
    Example: nox -s report            (thorough profile)
             nox -s report -- quick   (ci profile, a fast look)"""
    session.install("-e", ".[test,report]")
    quick = "quick" in session.posargs
    profile = "ci" if quick else "thorough"
    # The report records failures as verdicts; a failing test is still shown, so do not stop here.
    session.run("pytest", "-n", "auto", "-q", "--claim-progress", success_codes=[0, 1], env=_profile(profile))
    session.run("python", "-m", "reports.render")


@nox.session
def browser(session: nox.Session) -> None:
    """Render reports/index.html from reports/verification.json and test it in headless Chromium
    (console errors, every claim, every figure a rendered SVG; screenshot to reports/screenshot.png).
    Needs Debian's chromium (apt-get install chromium). Example: nox -s browser"""
    session.install("-e", ".[test,report,browser]")
    session.run("python", "-m", "reports.render")
    env = {"IMPLICIT_NO_EVIDENCE": "1", "IMPLICIT_REQUIRE_BROWSER": os.environ.get("IMPLICIT_REQUIRE_BROWSER", "0")}
    session.run("pytest", "-p", "no:xdist", "-q", "reports/tests", env=env)


@nox.session
def determinism(session: nox.Session) -> None:
    """Same seeds, same verification.json (timings aside) with -n 0 and -n 2.
    Example: nox -s determinism -- -k "c01 or c02" """
    session.install("-e", ".[test]")
    sel = session.posargs or ["-k", "not c06 and not c07 and not c09 and not c19"]
    env = _profile("ci")
    session.run("pytest", "-q", "-p", "no:xdist", *sel, env=env)
    session.run("python", "-c", "import shutil; shutil.copy('reports/verification.json', 'reports/.verification-n0.json')")
    session.run("pytest", "-q", "-n", "2", *sel, env=env)
    session.run("python", "tools/compare_verification.py", "reports/.verification-n0.json", "reports/verification.json")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (ratios within one run) to reports/bench.json. Example: nox -s bench"""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench.py", env=BLAS_ONE_THREAD)


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks with ruff. Example: nox -s lint"""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "theory", "checks", "reports", "benchmarks", "tools", "conftest.py", "noxfile.py")
