"""Every registered check and control of every claim: one pytest item each, its id the check's
name (``pytest -k check_c6_`` runs C6's).  The items come from the registry, which the claim
modules (``checks/claims/*.py``) fill with their decorators: nothing here is written by hand."""

from __future__ import annotations

import pytest

from .engine import registry, runner

registry.load_all()


@pytest.mark.parametrize("name", registry.ordered_names())
def test_check(name):
    runner.verify(name)
