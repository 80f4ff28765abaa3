#!/usr/bin/python3
"""check_error_codes.py [SOURCE_ROOT] — docs/openapi.yaml's ErrorCode schema against the
error registry of src/core/error.h, in TAP (test docs_error_codes): one case, what
`scripts/gen_error_enum.py --check` says (its diff as the diagnostic; `--write`
regenerates the block)."""
import os
import subprocess
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
r = subprocess.run([sys.executable, os.path.join(root, "scripts/gen_error_enum.py"), "--check",
                    os.path.join(root, "src/core/error.h"), os.path.join(root, "docs/openapi.yaml")],
                   capture_output=True, text=True, timeout=60)
print("1..1")
print(f"{'ok' if r.returncode == 0 else 'not ok'} 1 - docs/openapi.yaml ErrorCode equals "
      "src/core/error.h (scripts/gen_error_enum.py --check)")
if r.returncode != 0:
    for line in (r.stdout + r.stderr).splitlines()[:60]:
        print(f"# {line}")
sys.exit(0 if r.returncode == 0 else 1)
