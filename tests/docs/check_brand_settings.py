#!/usr/bin/python3
"""check_brand_settings.py [SOURCE_ROOT] — the documented brand settings keys against
the code's table (speaks TAP; test docs_brand_settings).

The keys a brand's settings may hold are the SETTINGS table of src/tenancy/tenancy.c
(a static table with no API that lists it, so its source is read: one
{"key", "settings.key", ...} row per key); the former keys it refuses by name are
its RETIRED table. Compared with them:
  1. docs/openapi.yaml, schema BrandSettings: its properties are exactly the keys
     (additionalProperties false, as the server refuses any other), none retired;
  2. README.md, "a brand's settings are checked when written: only `a`, `b` ... and
     `z`": exactly the keys."""
import os
import re
import sys
import traceback

import yaml


def table(text, name):
    m = re.search(r"\b" + name + r"\[\]\s*(?:\[\d+\])?\s*=\s*\{(.*?)\n\};", text, re.S)
    if not m:
        raise AssertionError(f"no table {name} in src/tenancy/tenancy.c")
    return re.findall(r'\{\s*"([a-z0-9_]+)",\s*"settings\.\1"', m.group(1))


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "src/tenancy/tenancy.c"), encoding="utf-8") as f:
        src = f.read()
    print("1..3", flush=True)
    failed = 0
    n = 0

    def case(name, fn):
        nonlocal failed, n
        n += 1
        try:
            problems = fn()
        except Exception:  # noqa: BLE001 — the traceback is the diagnostic
            problems = traceback.format_exc().splitlines()
        print(f"{'not ok' if problems else 'ok'} {n} - {name}", flush=True)
        for p in problems[:40]:
            print(f"# {p}", flush=True)
        failed += bool(problems)

    keys, retired = table(src, "SETTINGS"), table(src, "RETIRED")
    case(f"the code's table: {len(keys)} keys, {len(retired)} retired",
         lambda: [] if keys and retired else ["SETTINGS or RETIRED read as empty"])

    def compare(where, documented):
        return ([f"{where}: `{k}` is missing (SETTINGS, src/tenancy/tenancy.c)"
                 for k in keys if k not in documented]
                + [f"{where}: `{k}` is not a settings key of the code"
                   + (" (retired: refused by name)" if k in retired else "")
                   for k in documented if k not in keys])

    def openapi():
        with open(os.path.join(root, "docs/openapi.yaml"), encoding="utf-8") as f:
            doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        s = doc["components"]["schemas"]["BrandSettings"]
        problems = [] if s.get("additionalProperties") is False else [
            "BrandSettings: additionalProperties is not false (the server refuses other keys)"]
        return problems + compare("docs/openapi.yaml (BrandSettings)", list(s["properties"]))
    case("docs/openapi.yaml: BrandSettings has exactly the keys", openapi)

    def readme():
        with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"settings are checked when\s+written: only (.*?), each of its type", text, re.S)
        if not m:
            return ["README.md: the sentence \"a brand's settings are checked when written: only "
                    "`a`, ... and `z`, each of its type and range\" is not found"]
        return compare("README.md (Wallets)", re.findall(r"`([a-z0-9_]+)`", m.group(1)))
    case("README.md names exactly the keys", readme)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
