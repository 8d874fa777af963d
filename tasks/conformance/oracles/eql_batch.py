#!/usr/bin/env python3
"""Batch driver for Elastic's `eql` package (1.0.1), used by `detwiki-conformance eql`.

One interpreter for every query: reads JSON lines `{"id": ..., "text": ...}` on standard input and
prints one JSON line per query:

    {"id", "ok", "error": {"type", "message", "line", "column"} | null,
     "gap": null | "missing-events" | "endpoint-syntax", "structure": {...} | null}

Queries are parsed with the switches Elastic's detection-rules repository uses for its own rules
(`elasticsearch_syntax`, `ignore_missing_functions`, `allow_runs`, `allow_sample`), the same as
`../shared/oracles/eql_oracle.py`, plus `skip_optimizations`: eql's optimizer otherwise rewrites the
tree before we see it (merges `or`ed wildcards, folds contradictory conjunctions to `false`,
turns `not a == b` into `a != b`, drops list values that differ only in case), which would
compare its rewrites rather than the query as written. Verdicts are the same either way. When that rejects a query that uses a construct this
configuration leaves off but eql supports behind another switch (missing events `![...]`:
`allow_negation`; Elastic Endpoint syntax, that is sequence aliases `as event0`, field-to-field
comparisons and `$` variables: `elastic_endpoint_syntax`), the query is parsed
again with that switch and the answer is tagged with the `gap` class, so the caller can count it.

`structure` is normalised so that it compares with detwiki's IR without knowing eql's classes:
`kind`, `max_span_ms`, `steps` (runs expanded, as eql does), `until`, `pipes`; each step has
`event_type`, `missing`, `by` (shared keys first, as eql stores them) and `predicates`, a sorted list
of `[negated, field, class, values]` leaves. Values are decoded: `s:` string, `n:` number, `b:`
boolean, `null`, `f:` field, `e:` any other expression rendered without whitespace.

`--bench N` instead parses every query N times in-process and prints the timing (interpreter
start and reading excluded).
"""
import json
import sys
import time

import eql
from eql import ast

COMMON = (eql.parser.ignore_missing_functions, eql.parser.skip_optimizations, eql.parser.allow_runs,
          eql.parser.allow_sample)
BASE = (eql.parser.elasticsearch_syntax,) + COMMON
# Endpoint syntax replaces Elasticsearch syntax rather than stacking on it: stacked, Elasticsearch's
# `reject_field_comparisons` would stay on, and Endpoint rules compare fields across aliases.
GAPS = (("missing-events", BASE + (eql.parser.allow_negation,)),
        ("endpoint-syntax", (eql.parser.elastic_endpoint_syntax,) + COMMON))
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def parse(text, managers=BASE):
    return _parse_with(list(managers), text)


def _parse_with(managers, text):
    if not managers:
        return eql.parse_query(text)
    with managers[0]:
        return _parse_with(managers[1:], text)


def squash(text):
    return "".join(str(text).split())


def field_text(node):
    if isinstance(node, ast.Field):
        out = node.base
        for part in node.path:
            out += "[%d]" % part if isinstance(part, int) else "." + part
        return out
    return "e:" + squash(node)


def value_text(node):
    if isinstance(node, ast.String):
        return "s:" + node.value
    if isinstance(node, ast.Boolean):
        return "b:" + ("true" if node.value else "false")
    if isinstance(node, ast.Number):
        return "n:" + repr(node.value)
    if isinstance(node, ast.Null):
        return "null"
    if isinstance(node, ast.Field):
        return "f:" + field_text(node)
    return "e:" + squash(node)


def is_literal(node):
    return isinstance(node, (ast.String, ast.Number, ast.Boolean, ast.Null))


def leaves(node, negated, out):
    if isinstance(node, (ast.And, ast.Or)):
        for term in node.terms:
            leaves(term, negated, out)
    elif isinstance(node, ast.Not):
        leaves(node.term, not negated, out)
    elif isinstance(node, ast.Comparison):
        left, op, right = node.left, node.comparator, node.right
        if is_literal(left) and not is_literal(right):
            left, op, right = right, FLIP.get(op, op), left
        out.append([negated, field_text(left), op, [value_text(right)]])
    elif isinstance(node, ast.InSet):
        out.append([negated, field_text(node.expression), "in", [value_text(c) for c in node.container]])
    elif isinstance(node, ast.FunctionCall):
        args = node.arguments or []
        field = field_text(args[0]) if args else ""
        out.append([negated, field, node.name.lower() + "()", [value_text(a) for a in args[1:]]])
    elif isinstance(node, ast.IsNull):
        out.append([negated, field_text(node.expr), "is_null", []])
    elif isinstance(node, ast.IsNotNull):
        out.append([negated, field_text(node.expr), "is_not_null", []])
    else:
        out.append([negated, field_text(node), "other", []])


def step(subquery):
    query = subquery.query
    predicates = []
    leaves(query.query, False, predicates)
    data = subquery.data or {}
    return {"event_type": query.event_type, "missing": bool(data.get("is_negated")),
            "by": [field_text(v) for v in (subquery.join_values or [])],
            "predicates": sorted(predicates, key=json.dumps)}


def structure(parsed):
    first = parsed.first
    out = {"pipes": [type(p).__name__ for p in parsed.pipes], "max_span_ms": None, "until": None}
    if isinstance(first, ast.EventQuery):
        out["kind"] = "event"
        out["steps"] = [step(ast.SubqueryBy(first, []))]
    else:
        out["kind"] = type(first).__name__.lower()
        span = getattr(first, "max_span", None)
        out["max_span_ms"] = span.as_milliseconds() if span is not None else None
        out["steps"] = [step(q) for q in first.queries]
        close = getattr(first, "close", None)
        if close is not None:
            out["until"] = step(close)
    return out


def error_of(exc):
    return {"type": type(exc).__name__, "message": str(exc).splitlines()[0] if str(exc) else "",
            "line": getattr(exc, "line", None), "column": getattr(exc, "column", None)}


def answer(item):
    text = item["text"]
    try:
        return {"id": item["id"], "ok": True, "error": None, "gap": None, "structure": structure(parse(text))}
    except eql.EqlError as exc:
        first_error = error_of(exc)
    except Exception as exc:  # the oracle itself failing is reported, not fatal
        return {"id": item["id"], "ok": False, "error": {"type": "crash:" + type(exc).__name__,
                "message": str(exc)[:200], "line": None, "column": None}, "gap": None, "structure": None}
    for gap, managers in GAPS:
        try:
            parsed = parse(text, managers)
        except Exception:
            continue
        return {"id": item["id"], "ok": False, "error": first_error, "gap": gap, "structure": structure(parsed)}
    return {"id": item["id"], "ok": False, "error": first_error, "gap": None, "structure": None}


def bench(items, iterations):
    texts = [item["text"] for item in items]
    ok = 0
    for text in texts:
        try:
            parse(text)
            ok += 1
        except Exception:
            pass
    start = time.perf_counter()
    for _ in range(iterations):
        for text in texts:
            try:
                parse(text)
            except Exception:
                pass
    seconds = time.perf_counter() - start
    print(json.dumps({"queries": len(texts), "parsed": ok, "iterations": iterations, "seconds": seconds}))


def main():
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        bench(items, int(sys.argv[2]))
        return
    for item in items:
        print(json.dumps(answer(item), default=str))


if __name__ == "__main__":
    main()
