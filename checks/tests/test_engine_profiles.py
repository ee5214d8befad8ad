"""profiles.pick: the loaded profile's entry, else the entry of the profile it extends, else "default"."""

from __future__ import annotations

import pytest
from hypothesis import settings

from ..engine import profiles


@pytest.fixture
def loaded():
    """Load a profile for one test and restore the one that was loaded."""
    before = profiles.current()

    def load(name: str) -> None:
        settings.load_profile(name)

    yield load
    settings.load_profile(before)


TABLE = {"default": "ci plan", "thorough": "thorough plan"}


def test_a_named_profile_gets_its_entry(loaded):
    loaded("thorough")
    assert profiles.pick(TABLE) == "thorough plan"


def test_a_profile_the_table_does_not_name_gets_default(loaded):
    loaded("ci")
    assert profiles.pick(TABLE) == "ci plan"


def test_decide_extends_thorough(loaded):
    loaded("decide")
    assert profiles.EXTENDS["decide"] == "thorough"
    assert profiles.pick(TABLE) == "thorough plan"
    assert profiles.pick({**TABLE, "decide": "decide plan"}) == "decide plan"
    # the decide profile draws as many examples as thorough (the same property checks)
    assert settings.get_profile("decide").max_examples == settings.get_profile("thorough").max_examples


def test_a_table_without_default_is_refused(loaded):
    with pytest.raises(KeyError, match="'default' entry"):
        profiles.pick({"thorough": 1})


def test_entry_reads_a_named_profile_without_loading_it():
    assert profiles.entry(TABLE, "decide") == "thorough plan"
    assert profiles.entry(TABLE, "ci") == "ci plan"
