"""The empirical NTK (Gram matrix H over A) the way a PyTorch user would build it: unroll the
Picard iteration z ← relu(s·A·z + φ(Wx)) for K steps (K = the steps our solver needed from a
cold start, so both reach the same accuracy), take ``torch.func.jacrev`` of f(x) = uᵀz/√m with
respect to A, ``vmap`` over samples, and form J Jᵀ.  float64 on the CPU, one thread (as ours).

Optional: ``python -m pip install torch==2.13.0`` (a CPU build lies on this machine's disk).
"""

from __future__ import annotations

import numpy as np


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def ntk(net, X: np.ndarray, K: int) -> np.ndarray:
    """H = J Jᵀ with J = ∂f/∂A (n × m²) by reverse-mode autodiff through K Picard steps."""
    import torch
    from torch.func import jacrev, vmap

    torch.set_num_threads(1)
    A = torch.from_numpy(net.A)
    W = torch.from_numpy(net.W)
    u = torch.from_numpy(net.u)
    Xt = torch.from_numpy(np.ascontiguousarray(X))
    s, sqrt_m = float(net.s), float(np.sqrt(net.m))
    act = torch.relu if net.phi == "relu" else torch.tanh

    def f(A_, x):
        b = act(W @ x)
        z = torch.zeros_like(b)
        for _ in range(K):
            z = torch.relu(s * (A_ @ z) + b)
        return u @ z / sqrt_m

    J = vmap(jacrev(f), in_dims=(None, 0))(A, Xt)  # (n, m, m)
    Jf = J.reshape(J.shape[0], -1)
    return (Jf @ Jf.T).numpy()
