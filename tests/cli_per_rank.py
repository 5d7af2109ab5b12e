"""``gan-eval`` with every ``@rank`` in its arguments replaced by this process's ``RANK``: a launch script that
passes per-rank arguments, for tests/test_score_torchrun.py."""
import os
import sys

from gan_eval.cli import main

sys.argv = [sys.argv[0], *(arg.replace("@rank", os.environ["RANK"]) for arg in sys.argv[1:])]
main()
