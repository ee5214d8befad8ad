"""Task runner.  `nox -l` lists the sessions; each docstring shows an example call."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

# BLAS runs on one thread per process: conftest.py and benchmarks/bench.py set it (checks.engine.threads)
# before NumPy loads.


def _profile(default: str) -> dict[str, str]:
    return {"IMPLICIT_HYPOTHESIS_PROFILE": os.environ.get("IMPLICIT_HYPOTHESIS_PROFILE", default)}


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
             nox -s report -- quick   (ci profile, a fast look)
             nox -s report -- decide  (thorough + descent's panel rungs that decide GD2: 33 min 47 s from an empty cache here)"""
    session.install("-e", ".[test,report]")
    profile = "ci" if "quick" in session.posargs else "decide" if "decide" in session.posargs else "thorough"
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
    """Same seeds, same verification.json (timings aside) with -n 0, -n 2 and a random test order.
    Example: nox -s determinism -- -k "c01 or c02" """
    session.install("-e", ".[test]", "pytest-randomly>=3.15")
    sel = session.posargs or ["-k", "not check_c6_ and not check_c7_ and not check_c9_ and not check_c12_ and not "
                                    "check_c13_ and not check_c19_ and not executor"]
    env = _profile("ci")
    session.run("pytest", "-q", "-p", "no:xdist", "-p", "no:randomly", *sel, env=env)
    session.run("python", "-c", "import shutil; shutil.copy('reports/verification.json', 'reports/.verification-n0.json')")
    session.run("pytest", "-q", "-n", "2", "-p", "no:randomly", *sel, env=env)
    session.run("python", "tools/compare_verification.py", "reports/.verification-n0.json", "reports/verification.json")
    session.run("pytest", "-q", "-n", "2", "-p", "randomly", "--randomly-seed=20261125", *sel, env=env)
    session.run("python", "tools/compare_verification.py", "reports/.verification-n0.json", "reports/verification.json")


@nox.session
def flaky(session: nox.Session) -> None:
    """The default suite N times (default 10) in random test order (pytest-randomly, seeds 1..N);
    any failure fails the session, and every run's verification.json must equal the first's.
    Example: nox -s flaky            nox -s flaky -- 3 -k c05"""
    session.install("-e", ".[test]", "pytest-randomly>=3.15")
    args = list(session.posargs)
    runs = int(args.pop(0)) if args and args[0].isdigit() else 10
    env = _profile("dev")
    first = "reports/.verification-flaky-first.json"
    for k in range(1, runs + 1):
        session.log(f"flaky: run {k} of {runs} (random order, --randomly-seed={k})")
        session.run("pytest", "-q", "-n", "2", "-p", "randomly", f"--randomly-seed={k}", *args, env=env)
        if k == 1:
            session.run("python", "-c", f"import shutil; shutil.copy('reports/verification.json', '{first}')")
        else:
            session.run("python", "tools/compare_verification.py", first, "reports/verification.json")


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing of theory/ with mutmut against the checks (config in pyproject.toml);
    writes reports/mutants.json (kill rate, survivors) for the report.
    Example: nox -s mutants            nox -s mutants -- "theory.gram*"   (only those mutants)"""
    session.install("-e", ".[test]", "mutmut>=3.3")
    env = {**_profile("dev"), "IMPLICIT_NO_FLOW_CACHE": "1", "IMPLICIT_NO_EVIDENCE": "1"}
    session.run("mutmut", "run", "--max-children", "2", *session.posargs, env=env, success_codes=[0, 1])
    # --strict: an explanation in tools/mutants_equivalent.json that no longer names a survivor fails
    session.run("python", "tools/mutants_summary.py", "--strict", env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (ratios within one run) to reports/bench.json.
    Example: nox -s bench            nox -s bench -- --only=integrator --only=sweep   (some groups)
             nox -s bench -- --quick (smaller widths)"""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks with ruff. Example: nox -s lint"""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "theory", "checks", "reports", "benchmarks", "tools", "conftest.py", "noxfile.py")
