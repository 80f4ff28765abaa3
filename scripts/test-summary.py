#!/usr/bin/env python3
"""test-summary.py BUILD_DIR... — counts every test case across all suites and builds.

Each test program speaks TAP (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, or a script).
A case counts as passed on "ok N", failed on "not ok N". A program that dies before
finishing its plan ("1..N") has its missing cases counted as failed; a program that
failed without printing any TAP line counts as one failure. Prints the failures and
ends with one line: "N passed, N failed". Exit status 1 when anything failed."""
import json
import os
import re
import sys

passed = failed = 0
failures = []
for build in sys.argv[1:]:
    log = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failures.append(f"{build}: no test log")
        failed += 1
        continue
    with open(log, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out = rec.get("stdout") or ""
            plan = None
            ok = bad = 0
            for l in out.splitlines():
                m = re.match(r"^\s*1\.\.(\d+)", l)
                if m:
                    plan = int(m.group(1))
                elif re.match(r"^\s*ok \d+", l):
                    ok += 1
                elif re.match(r"^\s*not ok \d+", l):
                    bad += 1
                    failures.append(f"{build}: {rec['name']}: {l.strip()}")
            result = rec.get("result", "")
            if plan is not None and ok + bad < plan:
                missing = plan - ok - bad
                bad += missing
                failures.append(f"{build}: {rec['name']}: {missing} case(s) never reported ({result})")
            if ok + bad == 0 and result not in ("OK", "EXPECTEDFAIL"):
                bad = 1
                failures.append(f"{build}: {rec['name']}: {result}, no TAP output")
            elif bad == 0 and result not in ("OK", "EXPECTEDFAIL", "SKIP"):
                bad = 1
                failures.append(f"{build}: {rec['name']}: exited {result} after passing cases")
            passed += ok
            failed += bad
for f_ in failures:
    print("FAILED:", f_)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
