"""The crash test (tests/crash/crash_test.py), short: 3 rounds of ~4 s against the real binary.

Each round runs concurrent writers (puts, overwrites, multipart uploads, copies, deletes),
SIGKILLs the server at a random moment, restarts it and checks that every acknowledged
write reads back byte-identical, every acknowledged delete stayed deleted, and requests
in flight at the kill left either the old or the new state. At the end every object is
deleted and the server restarted: no chunk file may be left (start-up collection). Set COFFER_CRASH_SEED to
replay an operation mix; the long run is `tests/crash/crash_test.py --rounds 20 ...`.
"""

import os
import sys

from s3compat import coffer_bin

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "crash"))

import crash_test  # noqa: E402


def test_sigkill_under_concurrent_writes_loses_nothing(tmp_path):
    seed = os.environ.get("COFFER_CRASH_SEED")
    res = crash_test.run(rounds=3, seconds_per_round=4.0, seed=int(seed) if seed else None,
                         workdir=str(tmp_path / "crash"), require_no_orphans=True, out=print)
    report = res.figures() + ("\n== end of the server log (%s)\n%s" % (coffer_bin(), res.log_tail)
                              if res.log_tail else "")
    print(report)
    assert res.rounds == 3 and res.kills == 3, report
    assert sum(res.acked.values()) > 0 and res.objects_verified > 0, report
    assert not res.lost, report
    assert not res.mismatches, report
    assert not res.errors, report
    assert res.ok, report
