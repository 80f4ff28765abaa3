#!/usr/bin/env python3
"""gen_error_enum.py [--check|--write] [ERROR_H] [OPENAPI_YAML]

Keeps the ErrorCode schema of docs/openapi.yaml equal to the error registry in
src/core/error.h: every code except OK, in registry order, with its HTTP status
(x-pitboss-http-status). The schema sits between the "# @error-codes-begin" and
"# @error-codes-end" lines. --check (the default) exits 1 and prints a diff when
they differ; --write rewrites the block."""
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def registry(error_h):
    """[(code, status, message)] from the PB_ERRORS X-macro, in order."""
    with open(error_h, encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r'X\((\w+),\s*(\d+),\s*"((?:[^"\\]|\\.)*)"\)', text)
    return [(c, int(s), m) for c, s, m in rows if c != "OK"]


def block(rows, indent="    "):
    """The ErrorCode schema as YAML lines, markers included."""
    out = [f"{indent}# @error-codes-begin — generated from src/core/error.h by scripts/gen_error_enum.py --write",
           f"{indent}ErrorCode:",
           f"{indent}  type: string",
           f"{indent}  description: The stable error codes (never renamed, only added to).",
           f"{indent}  enum:"]
    out += [f"{indent}    - {c}" for c, _, _ in rows]
    out.append(f"{indent}  x-pitboss-http-status:")
    out += [f"{indent}    {c}: {s}" for c, s, _ in rows]
    out.append(f"{indent}# @error-codes-end")
    return out


def main(argv):
    mode = "--check"
    args = []
    for a in argv:
        if a in ("--check", "--write"):
            mode = a
        else:
            args.append(a)
    error_h = args[0] if len(args) > 0 else os.path.join(ROOT, "src/core/error.h")
    yaml_path = args[1] if len(args) > 1 else os.path.join(ROOT, "docs/openapi.yaml")
    with open(yaml_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    begin = next(i for i, l in enumerate(lines) if "# @error-codes-begin" in l)
    end = next(i for i, l in enumerate(lines) if "# @error-codes-end" in l)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    want = block(registry(error_h), indent)
    have = lines[begin : end + 1]
    if have == want:
        return 0
    if mode == "--write":
        lines[begin : end + 1] = want
        with open(yaml_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"updated {yaml_path}")
        return 0
    sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(have, want, "openapi.yaml", "error.h", lineterm=""))
    print("docs/openapi.yaml is out of date: run scripts/gen_error_enum.py --write")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
