#!/usr/bin/env python3
"""Batch driver for splint-spl (the SPL command splitter of ../shared/oracles): one interpreter
for every search. Reads JSON lines {"id": ..., "text": ...} on stdin and writes one JSON line
{"id": ..., "commands": [...]} per search, then a summary line {"summary": N, "seconds": ..., "parse_seconds": ...}.

Command names are normalised the way the conformance check compares them: comments removed
before the verb is taken, lower-case, and a leading command written without `|` is `search`
(splint names it after its first token, e.g. a macro call). Empty commands (`| |`, a trailing
`|`) are reported as "" so the Rust side can explain them.

Run with $ORACLES_HOME/venv3/bin/python (splint-spl 0.1.0 installed by oracles/setup.sh).
"""
import json
import sys
import time

from splint.parser import parse


PARSE_SECONDS = [0.0]


def names(text):
    started = time.perf_counter()
    parsed = parse(text)
    PARSE_SECONDS[0] += time.perf_counter() - started
    comments = [(c.offset, c.offset + 3 + len(c.text) + 3) for c in parsed.comments]
    out = []
    for command in parsed.commands:
        raw = command.raw
        start = command.offset
        # Blank out comments that fall inside this command.
        chars = list(raw)
        for begin, end in comments:
            for i in range(max(begin, start), min(end, start + len(raw))):
                chars[i - start] = " "
        stripped = "".join(chars).strip()
        verb = stripped.split(maxsplit=1)[0].lower() if stripped else ""
        out.append(verb)
    # The leading search: the text before the first top-level pipe is a `search` command unless
    # it is blank (a search that starts with `|`).
    if parsed.commands:
        first = parsed.commands[0]
        before_pipe = not parsed.pipes or first.offset < parsed.pipes[0].offset
        if before_pipe and out[0] not in ("", "search"):
            out[0] = "search"
    return out


def main():
    started = time.perf_counter()
    count = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        item = json.loads(line)
        try:
            commands = names(item["text"])
            error = None
        except Exception as exception:  # splint never raises by design; record it if it does
            commands = []
            error = repr(exception)
        count += 1
        sys.stdout.write(json.dumps({"id": item["id"], "commands": commands, "error": error}) + "\n")
    summary = {
        "summary": count,
        "seconds": round(time.perf_counter() - started, 6),
        # splint's parse() alone, for the benchmark: no JSON, no name normalisation.
        "parse_seconds": round(PARSE_SECONDS[0], 6),
    }
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
