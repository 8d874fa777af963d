#!/usr/bin/env python3
"""Counts catalog-fidelity defect classes over a built site's JSON twins (docs/json.md).

Usage: python3 scripts/site_counts.py SITE_DIR [--tables crates/detwiki-knowledge/data/tables.json]
       [--max NAME=N ...]

With `--max NAME=N` the script exits 1 when count NAME is above N (CI's regression check).

It reads every rule twin `SITE_DIR/rules/**/index.json` and the events index twin and prints one
`name: count` line per class, so two builds (before and after a change) compare line by line:

- catch_all_pages: rule pages with a product catch-all event row ("any Windows log");
  catch_all_with_category: those whose Sigma log source names a category or service (wrong);
- unknown_category_rows: rows saying a Sigma category or service is unknown;
- indicators_from_derived_columns: indicator rows stated on a column the query computed or
  aggregated: a predicate of the rule's IR on that field has a `computed`/`aggregate` origin (and
  none has an event origin), or the field has a Kusto default aggregate name (`set_X`, `count_`,
  `dcount_X`);
- indicators_named_in_text_definitions: (informational) KQL indicator rows whose field the query
  text assigns somewhere (`extend X =`, `project X =`, `summarize X =`, `scan ... declare (X:`):
  a text-only heuristic that also counts renames of event fields (`project X = Column` keeps the
  event origin) and names assigned in another branch than the filter's;
- indicators_not_in_schema: KQL indicator sources whose dataset is a table of the known schema
  (tables.json, every environment) and whose column (resolved, suffix removed, without a
  `.path` into a dynamic column) is not one of its columns;
- keyword_eq_empty_field: indicator rows on the keyword pseudo-field that are not `match`;
- kql_missing_lookback: KQL rule pages with no lookback (neither one from the query's time filters
  nor a declared one) whose query text bounds time with `ago(`: a lookback the page fails to show;
- providers / unknown_datasets: entries of the events index.

It only reads JSON; nothing is run. Standard library only.
"""

import json
import re
import sys
from pathlib import Path

DERIVED_DEFAULTS = re.compile(r"^(count_|dcount_|set_|make_set_|list_|make_list_|sum_|avg_|min_|max_|arg_max_|arg_min_|countif_|dcountif_)")


def walk(expr, out):
    """Appends every predicate of an IR Expr tree to `out` (depth-bounded by the data)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind in ("and", "or"):
            stack.extend(node.get("items", []))
        elif kind == "not":
            stack.append(node.get("item"))
        elif kind == "predicate":
            out.append(node)


def defined_in_text(text, field):
    name = re.escape(field)
    patterns = [
        rf"\b(extend|project|project-rename|summarize|make-series|extend-schema)\b[^|]*?\b{name}\s*=",
        rf"\bdeclare\s*\([^)]*\b{name}\s*:",
        rf"\bby\b[^|]*\b{name}\s*=",
        rf"\bparse\b[^|]*\b{name}\b",
    ]
    return any(re.search(pattern, text, re.IGNORECASE | re.DOTALL) for pattern in patterns)


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    site = Path(args[0])
    tables_path = Path(__file__).resolve().parent.parent / "crates/detwiki-knowledge/data/tables.json"
    if "--tables" in args:
        tables_path = Path(args[args.index("--tables") + 1])
    columns = {}
    for environment in json.loads(tables_path.read_text())["environments"].values():
        for table, table_columns in environment.items():
            columns.setdefault(table.lower(), set()).update(column[0] for column in table_columns)

    counts = {
        "rule_pages": 0,
        "catch_all_pages": 0,
        "catch_all_with_category": 0,
        "unknown_category_rows": 0,
        "indicator_rows": 0,
        "indicators_from_derived_columns": 0,
        "indicators_named_in_text_definitions": 0,
        "indicators_not_in_schema": 0,
        "keyword_eq_empty_field": 0,
        "kql_missing_lookback": 0,
        "merged_variant_rows": 0,
    }
    examples = {key: [] for key in counts}
    for twin in sorted((site / "rules").rglob("index.json")):
        if twin.parent == site / "rules":
            continue
        rule = json.loads(twin.read_text())
        catalog = rule.get("catalog") or {}
        counts["rule_pages"] += 1
        analyses = rule.get("analyses", [])
        selectors = any(
            "category" in dataset.get("attributes", {}) or "service" in dataset.get("attributes", {})
            for entry in analyses
            for dataset in entry.get("analysis", {}).get("datasets", [])
        )
        rows = catalog.get("event_coverage", [])
        catch_all = [row for row in rows if "without a category or service" in row.get("why", "")]
        if catch_all:
            counts["catch_all_pages"] += 1
            if selectors:
                counts["catch_all_with_category"] += 1
                examples["catch_all_with_category"].append(rule["id"])
        counts["unknown_category_rows"] += sum(
            1 for row in rows if row.get("title", "").startswith(("unknown category", "unknown service"))
        )
        counts["merged_variant_rows"] += sum(1 for row in rows if len(row.get("variants", [])) > 1)

        derived, event = set(), set()
        for entry in analyses:
            predicates = []
            for stage in entry.get("analysis", {}).get("stages", []):
                if stage.get("predicate"):
                    walk(stage["predicate"], predicates)
            for predicate in predicates:
                origin = (predicate.get("origin") or {}).get("kind", "event")
                (derived if origin in ("computed", "aggregate") else event).add(predicate.get("field"))
        query_text = "\n".join(
            query.get("text") or query.get("source") or "" for query in rule.get("queries", [])
        ) or rule.get("body", "")
        windows = catalog.get("time_windows") or {}
        if (
            rule.get("family") == "kusto"
            and not windows.get("lookbacks")
            and not windows.get("declared_lookback")
            and re.search(r"\bago\s*\(", query_text)
        ):
            counts["kql_missing_lookback"] += 1
            examples["kql_missing_lookback"].append(rule["id"])
        for row in catalog.get("indicators", []):
            counts["indicator_rows"] += 1
            if row.get("field") == "keyword" and not row.get("kind", "").startswith("match"):
                counts["keyword_eq_empty_field"] += 1
            for source in row.get("sources", []):
                field = source.get("raw_field", "")
                kusto = rule.get("family") == "kusto"
                if (field in derived and field not in event) or (kusto and DERIVED_DEFAULTS.match(field)):
                    counts["indicators_from_derived_columns"] += 1
                    examples["indicators_from_derived_columns"].append(f"{rule['id']}: {field}")
                    break
                if kusto and defined_in_text(query_text, field):
                    counts["indicators_named_in_text_definitions"] += 1
                    examples["indicators_named_in_text_definitions"].append(f"{rule['id']}: {field}")
                    break
            for source in row.get("sources", []):
                dataset = (source.get("dataset") or "").lower()
                field = re.split(r"[.\[]", source.get("resolved_field") or source.get("raw_field", ""))[0]
                if rule.get("family") == "kusto" and dataset in columns and field not in columns[dataset]:
                    counts["indicators_not_in_schema"] += 1
                    examples["indicators_not_in_schema"].append(f"{rule['id']}: {field} on {source.get('dataset')}")
                    break
    events = json.loads((site / "events/index.json").read_text())
    counts["providers"] = len(events.get("providers", []))
    counts["unknown_datasets"] = len(events.get("unknown_datasets", []))
    for key, value in counts.items():
        print(f"{key}: {value}")
    if "--examples" in args:
        for key, values in examples.items():
            for value in values[:15]:
                print(f"  {key}: {value}")
    status = 0
    for index, arg in enumerate(args):
        if arg != "--max" or index + 1 >= len(args):
            continue
        name, _, limit = args[index + 1].partition("=")
        if name not in counts or not limit.isdigit():
            print(f"site_counts: bad --max {args[index + 1]!r}", file=sys.stderr)
            return 2
        if counts[name] > int(limit):
            print(f"site_counts: {name} is {counts[name]}, above its limit {limit}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
