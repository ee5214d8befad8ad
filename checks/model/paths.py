"""Gradient-flow trajectories: the sweep's setting and plan, trajectory keys, the generic series a
trajectory records, and its summary.

A trajectory is identified by a :class:`Key`: (problem, γ rule, m, seed, integrator and its step,
init, observers).  Two problems:

* ``"pilot"``: the pilot setting (n = 6 samples on the unit sphere in d = 4, γ₀ = 0.5, the
  Gaussian initialisation).  Data (X, y) depend on the seed only, so a width sweep trains networks
  of different widths on the same data; the network is drawn from the generator seeded with
  (seed, m), or (seed, m, init) for the further initialisations ``init`` ≥ 1 of one data set.
  Held-out inputs: ``N_TEST`` unit vectors from the generator seeded with (seed, 99).  Horizon
  T = 6/λ₀, 12 checkpoints.
* ``"section51"``: the Section 5.1 path (A ≥ 0 half-normal with variance 1/m, fixed γ = 0.5,
  D(0) = I) on the same sizes, t ∈ [0, 200], one checkpoint: pre-activations of training points
  drift to 0 and then stay there (sliding), so the path has long smooth stretches and long kink
  stretches.  Data, network and held-out inputs from the generators seeded with 5, 3 and 6 (plus
  the key's seed).

* ``"panel"``: the data sets of :mod:`checks.model.panel` (controlled λ∞), Gaussian networks of
  (data set, m, init), horizon 6/λ₀.

Integrator by width (:func:`integrator_for`): Heun (h = 0.25/λ_max(H(t)), the oracle) below
``EXP_MIN_M``, exponential Euler (h ≤ 0.25/λ₀) from ``EXP_MIN_M`` on.  Below that width the flow
*slides* along ReLU switching surfaces so often that exponential Euler's big steps are only first
order and its halving estimate understates its error; from m = 1024 on its accuracy against Heun
is shown in CI on every recorded quantity the verdicts use.

A trajectory records only generic series (:class:`Summary`); what a claim needs beyond them is
recorded by that claim's observers (:mod:`checks.model.observers`), whose code enters the hash of
exactly the trajectories that carry them.  Trajectories are tasks (:mod:`checks.engine.tasks`):
:func:`ensure` computes the missing ones on the executor and stores each in the content-addressed
cache ``reports/.cache/flows``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import theory
from theory.bounds import movement_radius
from theory.flow import gradient_flow, integrator

from ..engine import profiles, registry, tasks
from ..engine.tasks import Task, file_code
from . import norms, observers, panel

#: The pilot setting: n samples in d dimensions, γ₀.
N, D, GAMMA0 = 6, 4, 0.5
#: Heun step safety h·λ_max(H) (see theory.flow.Heun); the accuracy evidence halves it.
SAFETY = 0.25
#: Exponential Euler: step h ≤ EXP_TAU/λ₀ (and ‖ΔA‖ per step ≤ EXP_TAU·B₀, theory.flow.EXP_MOVE);
#: the accuracy evidence halves it.  Used from EXP_MIN_M on (module docstring).
EXP_TAU, EXP_MIN_M = 0.25, 1024
#: The δ of "with probability ≥ 1 − δ" the sweep's plan is sized for.
DELTA = 0.1
#: Held-out unit vectors per pilot data set.
N_TEST = 16

#: Widths and seeds per profile (profiles.pick).  ``decision``: the widths where a frequency "for m
#: large enough" is decided (a one-sided 95% Clopper–Pearson bound ≥ 1 − δ needs ≥ 29 seeds even
#: with no failure); the other widths give the trend.  The pooled sweep no longer decides the
#: theorem (the panel does): the thorough plan keeps no path wider than 1024 (its 60 paths at 2048
#: were 8 of the thorough run's 73 task minutes) and 12 seeds at the Heun widths, the time budget of
#: the panel.
PLANS = {
    "default": {"widths": (64, 128, 256, 1024), "seeds": (8, 8, 8, 30), "decision": (1024,)},
    "thorough": {"widths": (64, 128, 256, 1024), "seeds": (12, 12, 12, 30), "decision": (1024,)},
}

RULES = ("gamma0/2c", "gamma0/c")


def plan() -> dict:
    return profiles.pick(PLANS)


def integrator_for(m: int) -> tuple[str, float]:
    """(method, step) used for a width in the sweeps (module docstring)."""
    return ("exp", EXP_TAU) if m >= EXP_MIN_M else ("heun", SAFETY)


# ------------------------------------------------------------------------------------ problems
def pilot_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The pilot data set of ``seed``: N unit vectors in D dimensions and their labels."""
    return theory.make_data(N, D, np.random.default_rng([seed, 0]))


def pilot_network(rule: str, m: int, seed: int, init: int = 0) -> theory.Network:
    """The network of (seed, m), or of (seed, m, init) for a further initialisation of the same data."""
    rng = np.random.default_rng([seed, m] if init == 0 else [seed, m, init])
    return theory.init_network(m, D, gamma0=GAMMA0, gamma_rule=rule, rng=rng, norm_of=norms.spectral_norm)


def problem(rule: str, m: int, seed: int, init: int = 0) -> tuple[theory.Network, np.ndarray, np.ndarray]:
    """Pilot data of ``seed``; the network of (seed, m), or of (seed, m, init) for a further initialisation."""
    X, y = pilot_data(seed)
    return pilot_network(rule, m, seed, init), X, y


def _section51_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    return theory.make_data(N, D, np.random.default_rng(5 + seed))


def _section51_network(rule: str, m: int, seed: int, init: int) -> theory.Network:
    return theory.init_network(m, D, scheme="halfnormal_1/m", gamma0=GAMMA0, gamma_rule=rule,
                               rng=np.random.default_rng(3 + seed))


@dataclass(frozen=True)
class Problem:
    """How a trajectory's data, network and held-out inputs are built (independent generators), and
    its horizon."""

    data: object  # seed -> (X, y)
    network: object  # (rule, m, seed, init) -> net
    heldout_seed: object  # seed -> the seed of the held-out inputs' generator
    T: float | None = None  # None: 6/λ₀
    checkpoints: int = 12

    def build(self, rule: str, m: int, seed: int, init: int) -> tuple[theory.Network, np.ndarray, np.ndarray]:
        X, y = self.data(seed)
        return self.network(rule, m, seed, init), X, y

    def heldout(self, seed: int) -> np.ndarray:
        return theory.normalize_rows(np.random.default_rng(self.heldout_seed(seed)).standard_normal((N_TEST, D)))


PROBLEMS = {
    "pilot": Problem(data=pilot_data, network=pilot_network, heldout_seed=lambda seed: [seed, 99]),
    "section51": Problem(data=_section51_data, network=_section51_network, heldout_seed=lambda seed: 6 + seed,
                         T=200.0, checkpoints=1),
    "panel": Problem(data=panel.data, network=panel.network, heldout_seed=lambda seed: [panel.PANEL_STREAM, seed, 99]),
}


def data_of(k) -> tuple[np.ndarray, np.ndarray]:
    """The data (X, y) a trajectory was trained on (no network is built)."""
    return PROBLEMS[k.problem].data(k.seed)


# ------------------------------------------------------------------------------------ keys
#: What a trajectory is computed from (with the model's compute modules and its observers'
#: closures): a change elsewhere in theory/ keeps the cache.
THEORY_MODULES = ("__init__", "_validate", "bounds", "equilibrium", "errors", "flow", "gram", "model", "passes")
#: What of the model a trajectory's result depends on: the code closure of :func:`compute` (the
#: definitions it reaches, not the whole of this module, so that editing a plan table recomputes
#: nothing) and the observer interface; a problem defined elsewhere (the panel) enters by the code
#: closure of its data and network functions.
COMPUTE_MODULES = ("observers.py",)
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Key(Task):
    """One trajectory: problem, γ rule, width, data seed, integrator ``method`` and its ``step``
    parameter (τ for exp, step safety for heun, c for gd, rtol for rk45), further initialisation
    ``init`` (0: the network of (seed, m)) and the observers it carries (a task, cached in
    reports/.cache/flows)."""

    namespace = "flows"
    kind = "path"
    theory_modules = THEORY_MODULES

    problem: str
    rule: str
    m: int
    seed: int
    method: str
    step: float
    init: int = 0
    observers: tuple[str, ...] = ()
    variant: str = ""  # a planted integrator variant registered by a claim module (controls only)

    def weight(self) -> float:
        """Relative cost per m² (per solve × solves: Heun ≈ 100/step steps of 2 solves, exponential
        Euler ≈ 6.5/step steps of 1, gradient descent ≈ 80/step steps of 1)."""
        per = {"heun": 200.0, "exp": 6.5, "gd": 80.0}.get(self.method, 200.0)
        return per / self.step

    def code(self) -> bytes:
        model = tasks.closure(compute) + b"".join(file_code(_HERE / f) for f in COMPUTE_MODULES)
        planted = tasks.closure(VARIANTS[self.variant]) if self.variant else b""
        prob = PROBLEMS[self.problem]
        problem = b"".join(tasks.closure(fn) for fn in (prob.data, prob.network) if fn.__module__ != __name__)
        return tasks.theory_code(self.theory_modules) + model + problem + planted + b"".join(
            name.encode() + tasks.closure(observers.get(name)) for name in self.observers)

    def compute(self) -> dict:
        return compute(self)


#: Planted integrator variants (a claim's controls of the integrator): name → a subclass of the
#: theory integrator of the key's method, built from the key's step (registered with :func:`variant`).
VARIANTS: dict[str, type] = {}


def variant(cls: type) -> type:
    """Register a planted integrator variant under its ``variant_name`` (class decorator)."""
    VARIANTS[cls.variant_name] = cls
    return cls


def integrator_of(k: Key):
    """The integrator of a trajectory: its method with its step, or the planted variant it names."""
    if not k.variant:
        return integrator(k.method, k.step)
    if k.variant not in VARIANTS:
        registry.load_all()
    cls = VARIANTS[k.variant]
    if cls.method != k.method:
        raise ValueError(f"variant {k.variant!r} is a {cls.method} integrator, not {k.method}")
    return cls(**{cls.param: k.step})


def key(rule: str, m: int, seed: int, method: str | None = None, step: float | None = None, init: int = 0,
        problem: str = "pilot", variant: str = "") -> Key:
    """The key of a trajectory, with the observers it carries; method and step default to the
    sweep's integrator for m."""
    dm, ds = integrator_for(m)
    base = Key(problem, rule, int(m), int(seed), method or dm, float(ds if step is None else step), int(init),
               variant=variant)
    return dataclasses.replace(base, observers=observers.carried(base))


def sweep_keys(rules=RULES) -> list[Key]:
    """Every trajectory of the profile's plan for the given γ rules."""
    p = plan()
    return [key(r, m, s) for r in rules for m, k in zip(p["widths"], p["seeds"]) for s in range(k)]


# ------------------------------------------------------------------------------------ summaries
@dataclass(frozen=True)
class Summary:
    """What the checks read from one trajectory: its identity, the generic recorded series and
    extrema (not the matrices), and what its observers recorded."""

    problem: str
    rule: str
    m: int
    seed: int
    method: str
    step: float
    init: int
    variant: str
    n: int
    gamma: float
    lambda0: float
    R: float  # Theorem 3.1 (b) at q̄ = γ₀ (theory.bounds.movement_radius)
    G: float  # γ·c_W: the gradient bound is G/(1 − q)² per sample
    r0: float  # ‖f(0) − y‖
    path: dict  # recorded series: t, loss, lam_min, lam_max, dA_fro, q_cert, dH_op, bottom_shift, lin_dev, flip_frac,
    # err_f, err_A
    maxima: dict  # max over the path of recorded quantities, min λ_min/λ₀, final loss ratio
    series: dict  # downsampled t, loss, loss bound, λ_min/λ₀ for figures
    checkpoint_loss: list
    checkpoint_f: list  # f at the recorded times closest to the checkpoints
    checkpoint_index: list  # those recorded times' indices into the path series
    steps: int
    failure: str | None
    heldout_change: float | None  # max over held-out x of |f_T(x) − f_0(x)| (None without held-out inputs)
    observed: dict  # {observer name: its result}


def _downsample(a: np.ndarray, k: int = 60) -> list[float]:
    idx = np.unique(np.linspace(0, len(a) - 1, min(k, len(a))).astype(int))
    return [float(v) for v in a[idx]]


@lru_cache(maxsize=1024)
def _load(k: Key) -> Summary:
    return Summary(**tasks.result(k))


def summary(k: Key) -> Summary:
    """One trajectory's summary: from the cache, or computed in this process if missing."""
    return _load(k)


def trajectory(rule: str, m: int, seed: int, method: str | None = None, step: float | None = None,
               init: int = 0, problem: str = "pilot") -> Summary:
    """Summary of one trajectory (from the cache when present; computed here otherwise)."""
    return _load(key(rule, m, seed, method, step, init, problem))


def summaries(keys) -> list[Summary]:
    """The summaries of ``keys``, computing the missing ones on the executor first."""
    keys = list(keys)
    ensure(keys)
    return [_load(k) for k in keys]


def ensure(keys, label: str = "trajectories") -> None:
    """Compute the missing trajectories of ``keys`` on the executor and store them."""
    tasks.ensure(keys, label=label)


def replay(payload: str) -> int:
    """``python -m checks.replay --path '{json key}'``: print one trajectory's extrema and failure."""
    k = json.loads(payload)
    s = trajectory(k["rule"], k["m"], k["seed"], k.get("method"), k.get("step"), k.get("init", 0),
                   k.get("problem", "pilot"))
    print(f"trajectory {k}: λ₀ = {s.lambda0!r}, {s.steps} steps, failure: {s.failure}")
    for name, v in s.maxima.items():
        print(f"  {name} = {v!r}")
    return 0


class _Fanout:
    """on_step for the flow: every observer in key order, and the held-out outputs at 0 and last."""

    def __init__(self, obs: list) -> None:
        self.obs, self.f0_x, self.f_x = obs, None, None

    def __call__(self, st) -> None:
        for o in self.obs:
            o.on_step(st)
        if st.eq_extra is not None:
            self.f_x = theory.output(st.net, st.eq_extra.Z)
            if self.f0_x is None:
                self.f0_x = self.f_x


def compute(k: Key) -> dict:
    """One trajectory, summarised (JSON-ready)."""
    prob = PROBLEMS[k.problem]
    net, X, y = prob.build(k.rule, k.m, k.seed, k.init)
    classes = [observers.get(name) for name in k.observers]
    Xt = prob.heldout(k.seed) if any(c.needs_heldout for c in classes) else None
    ctx = observers.PathContext(key=k, X=X, y=y, heldout=Xt)
    fan = _Fanout([c(ctx) for c in classes])
    res = gradient_flow(net, X, y, integrator_of(k), T=prob.T, checkpoints=prob.checkpoints,
                        on_step=fan if classes else None, X_extra=Xt)
    a = res.arrays()
    lam0, L0 = res.lambda0, a["loss"][0]
    r0 = float(np.sqrt(2 * L0))
    G = float(net.gamma * net.c_W)
    R = movement_radius(lam0, N, G, r0, GAMMA0)
    bound = np.exp(-lam0 * a["t"]) * L0
    zeros = [0.0] * len(a["t"])
    maxima: dict = {}
    path = {"t": a["t"], "loss": a["loss"], "lam_min": a["lam_min"], "dA_fro": a["dA_fro"], "q_cert": a["q_cert"],
            "dH_op": a["dH_op"], "err_f": res.err_f or zeros, "err_A": res.err_A or zeros, "lam_max": res.lam_max,
            "flip_frac": a["flip_frac"], "bottom_shift": res.bottom_shift, "lin_dev": res.lin_dev}
    if k.method == "gd":  # the step and the Gauss–Newton model's prediction of each next loss
        path["model_loss"] = res.model_loss
        maxima["eta"] = float(res.eta)
    maxima.update({kk: float(a[kk].max()) for kk in ("dA_fro", "q_cert", "dH_op", "dz_max", "dz_rel_max", "dv_max",
                                                     "flip_frac")})
    maxima["min_lambda_ratio"] = float(a["lam_min"].min() / lam0)
    maxima["final_loss_ratio"] = float(a["loss"][-1] / L0)
    series = {"t": _downsample(a["t"] * lam0), "loss": _downsample(a["loss"] / L0),
              "bound": _downsample(bound / L0), "lam_ratio": _downsample(a["lam_min"] / lam0)}
    ck = [int(np.argmin(np.abs(a["t"] - tc))) for tc in np.linspace(0.0, res.T, len(res.checkpoint_loss))]
    change = None if fan.f0_x is None else float(np.abs(fan.f_x - fan.f0_x).max())
    out = Summary(k.problem, k.rule, k.m, k.seed, k.method, k.step, k.init, k.variant, len(y), float(net.gamma), lam0,
                  float(R),
                  G, r0, {kk: [float(v) for v in vv] for kk, vv in path.items()}, maxima, series,
                  [float(v) for v in res.checkpoint_loss], [[float(v) for v in res.f[i]] for i in ck], ck,
                  res.steps, res.failure, change, {o.name: o.result(res) for o in fan.obs})
    return json.loads(json.dumps(asdict(out)))


#: The Section 5.1 path at four Heun step safeties (the step-refinement evidence reads all four).
SECTION51_M, SECTION51_SAFETIES = 64, (0.5, 0.25, 0.125, 0.0625)


def section51_keys() -> list[Key]:
    return [key("fixed", SECTION51_M, 0, "heun", sf, problem="section51") for sf in SECTION51_SAFETIES]
