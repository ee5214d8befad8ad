"""Replay one example of a check: ``python -m checks.replay CHECK_NAME '{json spec}'``,
or rerun an experiment (deterministic under the loaded profile): ``python -m checks.replay CHECK_NAME``,
or print one trajectory's path extrema: ``python -m checks.replay --path '{"rule": ..., "m": ..., "seed": ...,
"method": ..., "step": ...}'`` (optionally ``"init"``).

Prints the margin (≥ 1 means the claim holds on that example) and every measured number.
"""

from __future__ import annotations

import sys

from .engine import replay
from .model import paths
from .model.examples import Spec

if __name__ == "__main__":
    raise SystemExit(replay.main(sys.argv[1:], spec_type=Spec, replayers={"--path": paths.replay}, usage=__doc__))
