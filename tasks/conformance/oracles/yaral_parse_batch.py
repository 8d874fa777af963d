#!/usr/bin/env python3
"""Batch verdicts of tree-sitter-yaral 0.1.0, used by `detwiki-conformance yaral` to classify rejections.

One interpreter for every text: reads JSON lines `{"id": ..., "text": ...}` on standard input and prints one
JSON line `{"id": ..., "ok": bool}` per text (`ok`: the tree has no ERROR or MISSING node, the same verdict as
`../shared/oracles/yaral_oracle.py`). The caller sends a rejected rule rewritten so that one documented gap of the
grammar (or a set of them) no longer occurs: if the rewrite parses, the rejection was that gap.
"""
import json
import sys
import warnings

warnings.simplefilter('ignore')  # Language(int) is deprecated in py-tree-sitter >= 0.24
import tree_sitter as ts
import tree_sitter_yaral as ty

PARSER = ts.Parser(ts.Language(ty.language()))

for line in sys.stdin:
    if not line.strip():
        continue
    item = json.loads(line)
    tree = PARSER.parse(item['text'].encode('utf-8'))
    print(json.dumps({'id': item['id'], 'ok': not tree.root_node.has_error}), flush=False)
sys.stdout.flush()
