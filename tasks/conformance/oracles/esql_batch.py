#!/usr/bin/env python3
"""Batch driver for the ES|QL conformance check and benchmark (one interpreter for every query).

Reads JSON lines {"id": ..., "text": ...} on stdin and parses each text with PyPI esql-parser (the
ANTLR parser generated from Elasticsearch's EsqlBaseParser grammar). Writes one JSON line per query:

  {"id", "ok", "errors", "commands", "leaves", "parse_ms"}

- ok: no syntax error and no exception (the generated lexer can raise on some inputs).
- commands: the top-level commands in order, named as the ES|QL reference names them.
- leaves: the predicate leaves of the top-level WHERE commands whose subject is a column (possibly
  wrapped in a cast, a conversion or TO_LOWER/TO_UPPER/TRIM) and whose values are constants:
  [negated, field, wrappers, operator class, values]. negated is the parity of NOT around the leaf
  and in NOT LIKE / NOT RLIKE / NOT IN.
- parse_ms: time of lexing and parsing only (tree walking excluded).

With --passes N every text is parsed N times in N passes over the whole input, and a final line
{"summary": true, "pass_seconds": [...]} gives the parse time of each pass (the benchmark takes
the warm passes). Run with $ORACLES_HOME/venv3/bin/python.
"""
import json
import sys
import time

from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from antlr4.tree.Tree import TerminalNode
from esql_parser.EsqlBaseLexer import EsqlBaseLexer
from esql_parser.EsqlBaseParser import EsqlBaseParser

COMMANDS = {
    'FromCommandContext': 'FROM', 'RowCommandContext': 'ROW', 'ShowCommandContext': 'SHOW',
    'TimeSeriesCommandContext': 'TS', 'ExplainCommandContext': 'EXPLAIN', 'WhereCommandContext': 'WHERE',
    'EvalCommandContext': 'EVAL', 'StatsCommandContext': 'STATS', 'InlinestatsCommandContext': 'INLINE STATS',
    'KeepCommandContext': 'KEEP', 'DropCommandContext': 'DROP', 'RenameCommandContext': 'RENAME',
    'SortCommandContext': 'SORT', 'LimitCommandContext': 'LIMIT', 'SampleCommandContext': 'SAMPLE',
    'MvExpandCommandContext': 'MV_EXPAND', 'DissectCommandContext': 'DISSECT', 'GrokCommandContext': 'GROK',
    'EnrichCommandContext': 'ENRICH', 'LookupCommandContext': 'LOOKUP', 'ChangePointCommandContext': 'CHANGE_POINT',
    'CompletionCommandContext': 'COMPLETION', 'RerankCommandContext': 'RERANK', 'ForkCommandContext': 'FORK',
    'RrfCommandContext': 'RRF', 'InsistCommandContext': 'INSIST',
}
COMPARISONS = {'==': 'eq', '!=': 'ne', '=~': 'ieq', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge'}
MIRROR = {'lt': 'gt', 'le': 'ge', 'gt': 'lt', 'ge': 'le'}
WRAPPERS = {'to_lower': 'lower', 'to_upper': 'upper', 'trim': 'trim'}
CONVERSIONS = {'to_string', 'to_ip', 'to_long', 'to_integer'}
PREDICATE_FUNCTIONS = {'cidr_match', 'starts_with', 'ends_with'}


class Collect(ErrorListener):
    def __init__(self):
        self.errors = []

    def syntaxError(self, recognizer, symbol, line, column, message, error):
        self.errors.append(f'{line}:{column + 1} {message}')


def parse(text):
    errors = Collect()
    lexer = EsqlBaseLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errors)
    parser = EsqlBaseParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    try:
        tree = parser.singleStatement()
    except Exception as error:  # the generated lexer raises on an unbalanced mode stack
        errors.errors.append(f'exception: {error!r}')
        tree = None
    return tree, errors.errors


def kind(node):
    return type(node).__name__


def children(node):
    return [node.getChild(i) for i in range(node.getChildCount())]


def commands_of(tree):
    """The top-level command contexts in order (the query rule is left-recursive)."""
    out = []
    query = tree.getChild(0)
    stack = [query]
    while stack:
        node = stack.pop()
        for child in reversed(children(node)):
            name = kind(child)
            if name in ('QueryContext', 'CompositeQueryContext', 'SingleCommandQueryContext',
                        'SourceCommandContext', 'ProcessingCommandContext'):
                stack.append(child)
            elif name in COMMANDS or name == 'JoinCommandContext':
                out.append(child)
    # The stack walk visits children right to left; restore source order.
    out.sort(key=lambda node: node.start.tokenIndex)
    return out


def command_name(node):
    name = kind(node)
    if name == 'JoinCommandContext':
        return node.getChild(0).getText().upper().replace('_\U0001F414', '') + ' JOIN'
    return COMMANDS[name]


def unquote(text):
    if text.startswith('`') and text.endswith('`') and len(text) >= 2:
        return text[1:-1].replace('``', '`')
    return text


def qualified_name(node):
    parts = []
    for child in children(node):
        if kind(child) == 'IdentifierOrParameterContext':
            parts.append(unquote(child.getText()))
    return '.'.join(parts)


def decode(raw):
    if raw.startswith('"""'):
        return raw[3:-3] if raw.endswith('"""') and len(raw) >= 6 else raw[3:]
    inner = raw[1:-1] if len(raw) >= 2 else raw
    out, i = [], 0
    escapes = {'t': '\t', 'n': '\n', 'r': '\r'}
    while i < len(inner):
        c = inner[i]
        if c == '\\' and i + 1 < len(inner):
            out.append(escapes.get(inner[i + 1], inner[i + 1]))
            i += 2
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def unwrap(node):
    """Through operatorExpressionDefault/valueExpressionDefault/parentheses to the primary."""
    while True:
        name = kind(node)
        if name in ('ValueExpressionDefaultContext', 'OperatorExpressionDefaultContext', 'BooleanDefaultContext'):
            node = node.getChild(0)
        elif name == 'ParenthesizedExpressionContext':
            node = node.getChild(1)
        else:
            return node


def constant(node):
    """The decoded value of a constant expression, or None."""
    node = unwrap(node)
    name = kind(node)
    if name == 'ArithmeticUnaryContext' and node.getChild(0).getText() == '-':
        value = constant(node.getChild(1))
        if value is not None and value[:1].isdigit():
            return '-' + value
        return None
    if name == 'InlineCastContext':
        return constant(node.getChild(0))
    if name == 'ConstantDefaultContext':
        node = node.getChild(0)
        name = kind(node)
    if name == 'StringLiteralContext' or name == 'StringContext':
        return decode(node.getText())
    if name == 'IntegerLiteralContext':
        return str(int(node.getText().lstrip('+')))
    if name == 'DecimalLiteralContext':
        return number_text(float(node.getText()))
    if name == 'BooleanLiteralContext':
        return node.getText().lower()
    if name == 'NullLiteralContext':
        return 'null'
    if name == 'QualifiedIntegerLiteralContext':
        return f'{node.getChild(0).getText()} {node.getChild(1).getText().lower()}'
    return None


def number_text(value):
    text = repr(value)
    return text


def subject(node):
    """(field, wrappers) of a column possibly wrapped in casts, conversions, TO_LOWER, ..."""
    wrappers = []
    node = unwrap(node)
    while True:
        name = kind(node)
        if name == 'InlineCastContext':
            node = unwrap(node.getChild(0))
        elif name == 'FunctionContext':
            function = node.getChild(0)
            function_name = function.getChild(0).getText().lower()
            arguments = [child for child in children(function) if kind(child) == 'BooleanExpressionContext'
                         or 'Context' in kind(child) and kind(child) not in ('FunctionNameContext',
                                                                             'MapExpressionContext')]
            if len(arguments) != 1 or not (function_name in WRAPPERS or function_name in CONVERSIONS):
                return None
            if function_name in WRAPPERS:
                wrappers.append(WRAPPERS[function_name])
            node = unwrap(arguments[0])
        elif name == 'DereferenceContext':
            return qualified_name(node.getChild(0)), wrappers
        else:
            return None


def leaves_of(node, negated, out):
    name = kind(node)
    if name == 'LogicalNotContext':
        leaves_of(node.getChild(1), not negated, out)
    elif name == 'LogicalBinaryContext':
        leaves_of(node.getChild(0), negated, out)
        leaves_of(node.getChild(2), negated, out)
    elif name == 'BooleanDefaultContext':
        leaves_of(node.getChild(0), negated, out)
    elif name == 'ValueExpressionDefaultContext':
        inner = unwrap(node)
        if kind(inner) == 'FunctionContext':
            function_leaf(inner, negated, out)
        elif kind(node.getChild(0)) == 'OperatorExpressionDefaultContext' and \
                kind(node.getChild(0).getChild(0)) == 'ParenthesizedExpressionContext':
            leaves_of(node.getChild(0).getChild(0).getChild(1), negated, out)
    elif name == 'ComparisonContext':
        left, operator, right = node.getChild(0), node.getChild(1).getText(), node.getChild(2)
        op = COMPARISONS.get(operator)
        target, value = subject(left), constant(right)
        if target is None or value is None:
            target, value = subject(right), constant(left)
            op = MIRROR.get(op, op)
        if target is not None and value is not None and op is not None:
            out.append([negated, target[0], target[1], op, [value]])
    elif name == 'RegexExpressionContext':
        regex = node.getChild(0)
        texts = [child.getText().upper() for child in children(regex) if isinstance(child, TerminalNode)]
        op = 'rlike' if 'RLIKE' in texts else 'like'
        target = subject(regex.getChild(0))
        values = [decode(child.getText()) for child in children(regex) if kind(child) == 'StringContext']
        if target is not None:
            out.append([negated != ('NOT' in texts), target[0], target[1], op, values])
    elif name == 'LogicalInContext':
        texts = [child.getText().upper() for child in children(node) if isinstance(child, TerminalNode)]
        expressions = [child for child in children(node) if kind(child).startswith('ValueExpression')
                       or kind(child) == 'ComparisonContext']
        target = subject(expressions[0]) if expressions else None
        values = [constant(child) for child in expressions[1:]]
        if target is not None and values and all(value is not None for value in values):
            out.append([negated != ('NOT' in texts), target[0], target[1], 'in', values])
    elif name == 'IsNullContext':
        texts = [child.getText().upper() for child in children(node) if isinstance(child, TerminalNode)]
        target = subject(node.getChild(0))
        if target is not None:
            out.append([negated, target[0], target[1], 'is_not_null' if 'NOT' in texts else 'is_null', []])
    elif name == 'MatchExpressionContext':
        match = node.getChild(0)
        value = constant(match.constant()) if match.constant() is not None else None
        if match.qualifiedName() is not None and value is not None:
            out.append([negated, qualified_name(match.qualifiedName()), [], 'match', [value]])


def function_leaf(node, negated, out):
    function = node.getChild(0)
    function_name = function.getChild(0).getText().lower()
    if function_name not in PREDICATE_FUNCTIONS:
        return
    arguments = [child for child in children(function) if kind(child) == 'BooleanDefaultContext'
                 or kind(child).endswith('Context') and kind(child) not in ('FunctionNameContext', 'MapExpressionContext')]
    if len(arguments) < 2:
        return
    target = subject(arguments[0])
    values = [constant(argument) for argument in arguments[1:]]
    if target is not None and all(value is not None for value in values):
        out.append([negated, target[0], target[1], function_name, values])


def structure(tree):
    commands = commands_of(tree)
    leaves = []
    for command in commands:
        if kind(command) == 'WhereCommandContext':
            leaves_of(command.getChild(1), False, leaves)
    return [command_name(command) for command in commands], leaves


def main():
    passes = 1
    if '--passes' in sys.argv:
        passes = max(1, int(sys.argv[sys.argv.index('--passes') + 1]))
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    pass_seconds = []
    for index in range(passes):
        total = 0.0
        last = index == passes - 1
        for item in items:
            started = time.perf_counter()
            tree, errors = parse(item['text'])
            elapsed = time.perf_counter() - started
            total += elapsed
            if not last:
                continue
            result = {'id': item['id'], 'ok': not errors, 'errors': errors[:3], 'parse_ms': elapsed * 1000}
            if not errors and tree is not None:
                try:
                    result['commands'], result['leaves'] = structure(tree)
                except Exception as error:  # a tree shape this walker does not know
                    result['walk_error'] = repr(error)
            print(json.dumps(result))
        pass_seconds.append(total)
    print(json.dumps({'summary': True, 'pass_seconds': pass_seconds, 'queries': len(items)}))


if __name__ == '__main__':
    main()
