#!/usr/bin/env python3
"""Times tree-sitter-yaral's Parser.parse alone over every .yaral file under a folder, in one
interpreter: files are read first, then parsed once (the run detwiki is compared with).
Prints one JSON line: files, bytes, seconds.
Usage: ORACLES_HOME/venv3/bin/python yaral_parse_timing.py FOLDER"""
import json, os, sys, time, warnings

warnings.simplefilter('ignore')  # Language(int) is deprecated in py-tree-sitter >= 0.24
import tree_sitter
import tree_sitter_yaral

parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_yaral.language()))
sources = []
for folder, subfolders, names in os.walk(sys.argv[1]):
    subfolders[:] = sorted(name for name in subfolders if not name.startswith('.'))
    for name in sorted(names):
        if name.endswith('.yaral'):
            with open(os.path.join(folder, name), 'rb') as handle:
                sources.append(handle.read())
start = time.perf_counter()
for source in sources:
    parser.parse(source)
seconds = time.perf_counter() - start
print(json.dumps({'files': len(sources), 'bytes': sum(map(len, sources)), 'seconds': seconds}))
