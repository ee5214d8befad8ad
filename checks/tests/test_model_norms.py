"""checks.model.norms: the memo of ‖A(0)‖₂ returns exactly what the measurement returns, measures each
matrix once, and tells matrices apart."""

from __future__ import annotations

import numpy as np
import pytest

import theory
from checks.engine import tasks as _tasks
from checks.model import norms

M = theory.model.DENSE_NORM_MAX_M + 76  # the ARPACK regime (the memo serves m ≥ norms.MEMO_MIN_M)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(_tasks, "CACHE", tmp_path)
    monkeypatch.delenv("IMPLICIT_NO_FLOW_CACHE", raising=False)
    return tmp_path / norms.NAMESPACE


def _counting(monkeypatch) -> list[int]:
    calls = [0]
    real = theory.spectral_norm

    def counted(A):
        calls[0] += 1
        return real(A)

    monkeypatch.setattr(norms.theory, "spectral_norm", counted)
    return calls


def test_memo_returns_the_measured_float_and_measures_once(tmp_cache, monkeypatch):
    A = np.random.default_rng(0).standard_normal((M, M))
    expected = theory.spectral_norm(A)
    calls = _counting(monkeypatch)
    first = norms.spectral_norm(A)
    second = norms.spectral_norm(A.copy())
    assert first == expected and second == expected  # bitwise: the same float, measured or read back
    assert calls[0] == 1
    assert len(list(tmp_cache.glob("norm-*.json"))) == 1


def test_memo_tells_matrices_apart(tmp_cache, monkeypatch):
    A = np.random.default_rng(1).standard_normal((M, M))
    B = A.copy()
    B[3, 5] = np.nextafter(B[3, 5], np.inf)  # one ulp in one entry: another matrix, another key
    calls = _counting(monkeypatch)
    norms.spectral_norm(A)
    norms.spectral_norm(B)
    assert calls[0] == 2
    assert len(list(tmp_cache.glob("norm-*.json"))) == 2


def test_memo_serves_the_dense_regime_from_memo_min_m(tmp_cache, monkeypatch):
    A = np.random.default_rng(5).standard_normal((norms.MEMO_MIN_M, norms.MEMO_MIN_M))
    expected = theory.spectral_norm(A)
    calls = _counting(monkeypatch)
    assert norms.spectral_norm(A) == norms.spectral_norm(A) == expected
    assert calls[0] == 1


def test_memo_off_with_the_cache_and_below_memo_min_m(tmp_cache, monkeypatch):
    calls = _counting(monkeypatch)
    small = np.random.default_rng(2).standard_normal((64, 64))
    norms.spectral_norm(small)
    norms.spectral_norm(small)
    assert calls[0] == 2
    monkeypatch.setenv("IMPLICIT_NO_FLOW_CACHE", "1")
    A = np.random.default_rng(3).standard_normal((M, M))
    norms.spectral_norm(A)
    norms.spectral_norm(A)
    assert calls[0] == 4
    assert not tmp_cache.exists()


def test_init_network_with_the_memo_is_the_same_network(tmp_cache):
    nets = [theory.init_network(M, 4, gamma0=0.5, gamma_rule="gamma0/2c", rng=np.random.default_rng(7), norm_of=f)
            for f in (None, norms.spectral_norm, norms.spectral_norm)]
    for net in nets[1:]:
        assert net.gamma == nets[0].gamma and net.q == nets[0].q
        assert np.array_equal(net.A, nets[0].A)
