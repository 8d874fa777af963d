#!/usr/bin/env python3
"""Batch driver for the Kibana KQL (kuery) and Lucene reference parsers: one interpreter for every
query of a run. Reads JSON lines {"id", "language": "kuery"|"lucene", "text"} on standard input and
writes one JSON line per query: {"id", "ok", "error", "leaves"}, where every leaf is
[negated, field, class, value] (class: term, range, regex, exists). With `--bench N` it parses every
query N times instead and prints {"kuery_seconds", "lucene_seconds", "queries"}.

Parsers: kibana-ql 0.2 (Kibana's kuery grammar) and luqum 1.0.0, as installed by
../shared/oracles/setup.sh (run with ORACLES_HOME/venv3/bin/python). Written for detwiki's
conformance task; the normalisation to leaves is ours.
"""
import json
import sys
import time

from kibana_ql import KqlParser
from luqum.parser import parser as lucene_parser
from luqum import tree as lucene_tree

kuery_parser = KqlParser()


def kuery_parse(text):
    return kuery_parser.ast(kuery_parser.parse(text))


def kuery_value_leaves(value, field, negated, out):
    """A field's value: a word list (unquoted), a string (quoted), a boolean dict or a nested field."""
    if isinstance(value, (list, tuple)):
        text = " ".join(value)
        if text == "*":
            out.append([negated, field, "exists", ""])
        else:
            out.append([negated, field, "term", text])
    elif isinstance(value, str):
        out.append([negated, field, "term", value])
    elif isinstance(value, dict):
        if "field" in value:
            kuery_leaves(value, negated, out, prefix=field + ".")
            return
        op = value.get("op")
        if op == "not":
            kuery_value_leaves(value["expr"], field, not negated, out)
            return
        for child in kuery_children(value):
            kuery_value_leaves(child, field, negated, out)


def kuery_children(node):
    children = []
    if "left" in node:
        children.append(node["left"])
    if "right" in node:
        children.append(node["right"])
    children.extend(node.get("exprs", []))
    return children


def kuery_leaves(node, negated, out, prefix=""):
    if isinstance(node, (list, tuple)):
        # The empty query.
        return out
    if "field" in node:
        field = prefix + node["field"]
        if node.get("op") in ("<", "<=", ">", ">="):
            value = node["value"]
            text = " ".join(value) if isinstance(value, (list, tuple)) else value
            out.append([negated, field, "range", node["op"] + text])
        else:
            kuery_value_leaves(node["value"], field, negated, out)
        return out
    op = node.get("op")
    if op == "not":
        kuery_leaves(node["expr"], not negated, out, prefix)
        return out
    if op in ("and", "or"):
        for child in kuery_children(node):
            kuery_leaves(child, negated, out, prefix)
        return out
    if "value" in node:
        kuery_value_leaves(node["value"], "", negated, out)
    return out


def unescape(text):
    out = []
    escaped = False
    for character in text:
        if escaped:
            out.append(character)
            escaped = False
        elif character == "\\":
            escaped = True
        else:
            out.append(character)
    return "".join(out)


def lucene_bound(node):
    text = node.value if hasattr(node, "value") else str(node)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        text = text[1:-1]
    return unescape(text)


def lucene_leaves(node, field, negated, out):
    t = lucene_tree
    if isinstance(node, t.SearchField):
        if node.name == "_exists_":
            out.append([negated, lucene_bound(node.expr), "exists", ""])
            return out
        return lucene_leaves(node.expr, unescape(node.name), negated, out)
    if isinstance(node, (t.Not, t.Prohibit)):
        return lucene_leaves(node.a, field, not negated, out)
    if isinstance(node, t.Word):
        value = unescape(node.value)
        out.append([negated, field, "exists", ""] if value == "*" and field else [negated, field, "term", value])
        return out
    if isinstance(node, t.Phrase):
        out.append([negated, field, "term", unescape(node.value[1:-1])])
        return out
    if isinstance(node, t.Regex):
        out.append([negated, field, "regex", node.value[1:-1].replace("\\/", "/")])
        return out
    if isinstance(node, t.Range):
        low, high = lucene_bound(node.low), lucene_bound(node.high)
        if low == "*" and high == "*":
            out.append([negated, field, "exists", ""])
        if low != "*":
            out.append([negated, field, "range", (">=" if node.include_low else ">") + low])
        if high != "*":
            out.append([negated, field, "range", ("<=" if node.include_high else "<") + high])
        return out
    if isinstance(node, t.From):
        out.append([negated, field, "range", (">=" if node.include else ">") + lucene_bound(node.a)])
        return out
    if isinstance(node, t.To):
        out.append([negated, field, "range", ("<=" if node.include else "<") + lucene_bound(node.a)])
        return out
    for child in node.children:
        lucene_leaves(child, field, negated, out)
    return out


def run_one(item):
    language, text = item["language"], item["text"]
    try:
        if language == "kuery":
            leaves = kuery_leaves(kuery_parse(text), False, [])
        else:
            leaves = lucene_leaves(lucene_parser.parse(text), "", False, [])
        return {"id": item["id"], "ok": True, "leaves": leaves}
    except Exception as error:  # every parser error is a verdict, not a crash of the run
        return {"id": item["id"], "ok": False, "error": "%s: %s" % (type(error).__name__, str(error)[:200])}


def main():
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        rounds = int(sys.argv[2])
        result = {"queries": len(items), "rounds": rounds}
        for language, parse in (("kuery", kuery_parse), ("lucene", lucene_parser.parse)):
            texts = [item["text"] for item in items if item["language"] == language]
            start = time.perf_counter()
            for _ in range(rounds):
                for text in texts:
                    try:
                        parse(text)
                    except Exception:
                        pass
            result[language + "_seconds"] = time.perf_counter() - start
            result[language + "_queries"] = len(texts)
        print(json.dumps(result))
        return
    out = sys.stdout
    for item in items:
        out.write(json.dumps(run_one(item)) + "\n")


if __name__ == "__main__":
    main()
