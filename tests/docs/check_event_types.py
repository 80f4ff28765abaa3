#!/usr/bin/python3
"""check_event_types.py PATH/TO/print_event_types [SOURCE_ROOT] — the documented
event types against the code's table (speaks TAP; test docs_event_types).

The table is pb_event_types in src/events/outbox.c: every type the server emits
and the staff permission that sees it (pb_events_append refuses any other). It is
read from print_event_types, a tiny program linked with the same store library as
the server, so what is compared is the compiled table, not a parse of C text.
Compared with it:
  1. README.md, section Events: the table between the "@event-types-begin" and
     "@event-types-end" comments — one row per type, each with the type's permission
     and a meaning; no type missing, none unknown, none twice;
  2. docs/openapi.yaml, schema Event: the enum of `type` — the same set, none twice;
  3. docs/openapi.yaml, GET /v1/admin/events/stream: the list of which permission
     sees which types (`finance.read`: `deposit.*`, ...) — every type under exactly
     its own permission, and every name or pattern there matches a type;
  4. docs/openapi.yaml, admin.dashboard: every type named in the first column of
     its event table exists;
  5. the back office (web/src/pages/Dashboard.tsx, TYPE_LABEL): every type has a
     label for the dashboard's live feed, and no label names an unknown type.
A type added to the table without documentation, or documentation of a type the
code does not have, fails here."""
import fnmatch
import os
import re
import subprocess
import sys
import traceback

import yaml

NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


class Tap:
    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        print(f"1..{plan}", flush=True)

    def case(self, name, fn):
        """fn() returns a list of problems (empty: ok) or raises."""
        self.n += 1
        try:
            problems = fn()
        except Exception:  # noqa: BLE001 — the traceback is the diagnostic
            problems = traceback.format_exc().splitlines()
        if problems:
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            for p in problems[:60]:
                print(f"# {p}", flush=True)
        else:
            print(f"ok {self.n} - {name}", flush=True)


def code_table(helper):
    out = subprocess.run([helper], capture_output=True, check=True, timeout=30, text=True)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line]
    return [(r[0], r[1]) for r in rows]


def compare(where, documented, table):
    """Problems of a documented list of names against the table's names."""
    names = [n for n, _ in table]
    problems = [f"{where}: `{n}` is listed {documented.count(n)} times"
                for n in sorted(set(documented)) if documented.count(n) > 1]
    problems += [f"{where}: `{n}` is missing (it is in pb_event_types, src/events/outbox.c)"
                 for n in names if n not in documented]
    problems += [f"{where}: `{n}` is not an event type of the code (pb_event_types)"
                 for n in sorted(set(documented)) if n not in names]
    return problems


def readme_rows(root):
    """[(type, permission, meaning)] of the README's event table."""
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        text = f.read()
    begin = text.index("<!-- @event-types-begin")
    end = text.index("<!-- @event-types-end", begin)
    section = text[text.rindex("\n## ", 0, begin) + 1:].split("\n", 1)[0]
    if section != "## Events":
        raise AssertionError(f"the event table is under {section!r}, not '## Events'")
    rows = []
    for line in text[begin:end].splitlines()[1:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.strip() or cells[0] == "type" or set(cells[0]) <= set("-"):
            continue
        if len(cells) != 3:
            raise AssertionError(f"README row without 3 cells: {line}")
        rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2]))
    return rows


def openapi(root):
    with open(os.path.join(root, "docs/openapi.yaml"), encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def operation(doc, op_id):
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == op_id:
                return op
    raise AssertionError(f"no operation {op_id} in docs/openapi.yaml")


def main(argv):
    helper = argv[1]
    root = argv[2] if len(argv) > 2 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    tap = Tap(6)
    table = code_table(helper)
    perm = dict(table)
    names = [n for n, _ in table]

    def the_table():
        problems = ["the table is empty"] if not table else []
        problems += [f"`{n}` is not a dotted lower-case name" for n in names if not NAME.match(n)]
        problems += [f"`{n}` is in the table twice" for n in set(names) if names.count(n) > 1]
        return problems
    tap.case(f"the code's table: {len(table)} event types", the_table)

    def readme():
        rows = readme_rows(root)
        problems = compare("README.md (Events)", [r[0] for r in rows], table)
        problems += [f"README.md (Events): `{t}` is seen with `{p}` there, `{perm[t]}` in the code"
                     for t, p, _ in rows if t in perm and p != perm[t]]
        problems += [f"README.md (Events): `{t}` has no meaning" for t, _, m in rows if not m]
        return problems
    tap.case("README.md lists every type with its permission and meaning, and no other", readme)

    doc = openapi(root)

    def enum():
        t = doc["components"]["schemas"]["Event"]["properties"]["type"]
        return compare("docs/openapi.yaml (Event.type enum)", list(t.get("enum") or []), table)
    tap.case("docs/openapi.yaml: Event.type's enum is the table's types", enum)

    def stream():
        desc = operation(doc, "admin.events.stream")["description"]
        m = re.search(r"event types their role may read\s*\((.*?)\)\s*in the brands", desc, re.S)
        if not m:
            return ["admin.events.stream: the sentence 'The member sees the event types their "
                    "role may read (`perm`: `type`, ...; ...) in the brands' is not found"]
        problems, seen = [], {}
        for part in m.group(1).split(";"):
            g = re.match(r"\s*`([a-z_.]+)`:\s*(.*)$", part, re.S)
            if not g:
                problems.append(f"admin.events.stream: cannot read {part.strip()!r}")
                continue
            for pattern in re.findall(r"`([^`]+)`", g.group(2)):
                hits = fnmatch.filter(names, pattern)
                if not hits:
                    problems.append(f"admin.events.stream: `{pattern}` matches no event type")
                for t in hits:
                    seen.setdefault(t, []).append(g.group(1))
        for t in names:
            if t not in seen:
                problems.append(f"admin.events.stream: `{t}` is under no permission")
            elif seen[t] != [perm[t]]:
                problems.append(f"admin.events.stream: `{t}` is under {seen[t]}, the code's "
                                f"permission is `{perm[t]}`")
        return problems
    tap.case("docs/openapi.yaml: the stream's types per permission are the table's", stream)

    def dashboard():
        desc = operation(doc, "admin.dashboard")["description"]
        named = []
        for line in desc.splitlines():
            if line.startswith("| `"):
                named += re.findall(r"`([^`]+)`", line.split("|")[1])
        problems = [] if named else ["admin.dashboard: its event table is not found"]
        return problems + [f"admin.dashboard: `{n}` is not an event type of the code"
                           for n in named if n not in perm]
    tap.case("docs/openapi.yaml: the dashboard's event table names only real types", dashboard)

    def web_labels():
        with open(os.path.join(root, "web", "src", "pages", "Dashboard.tsx"),
                  encoding="utf-8") as f:
            src = f.read()
        begin = src.index("const TYPE_LABEL")
        body = src[begin:src.index("};", begin)]
        labels = re.findall(r"^\s*'([^']+)':", body, re.M)
        return compare("web/src/pages/Dashboard.tsx TYPE_LABEL", labels, table) if labels \
            else ["web/src/pages/Dashboard.tsx: TYPE_LABEL is not found"]
    tap.case("the back office dashboard labels every type, and no other", web_labels)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
