#!/usr/bin/env node
// Semantic batch driver for the KQL conformance check: Microsoft Kusto.Language (npm
// @kusto/language-service-next, installed by ../shared/oracles/setup.sh) loaded once, every unit
// analysed with ParseAndAnalyze against one schema.
//
// Usage: node kql_semantic.js --schema-json SCHEMA.json < units.jsonl
//   SCHEMA.json: {"group": {"Table": {"Column": {"data_type": "string"}}}} (the shape of
//     ../shared/oracles/kql_oracle.js --schema-json), plus an optional top-level "functions":
//     {"Name": {"parameters": "(x:string)", "body": "{ ... }"}} for the environment's functions.
//   units.jsonl: one {"id": "...", "text": "..."} per line.
// Output: one JSON line per unit: {"id", "syntax_errors", "diagnostics": [{code, name, offset, length, message}]}
//   with every semantic diagnostic whose code is KS142 (unknown name), KS204 (unknown table) or
//   KS211 (unknown function); `offset`/`length` are UTF-8 byte offsets into the unit text
//   (Kusto.Language reports UTF-16 offsets). Then a summary line {"summary": true, "units", "ms"}.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const readline = require('readline');

const ORACLES_HOME = process.env.ORACLES_HOME ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'detwiki-oracles');
const MOD = process.env.KUSTO_MODULES || path.join(ORACLES_HOME, 'kusto', 'node_modules');
require(path.join(MOD, '@kusto/language-service-next/bridge.min.js'));
require(path.join(MOD, '@kusto/language-service-next/Kusto.Language.Bridge.min.js'));
const K = Kusto.Language;

const list = (l) => { const a = []; if (!l) return a; for (let i = 0; i < l.Count; i++) a.push(l.getItem(i)); return a; };
const CODES = new Set(['KS142', 'KS204', 'KS211']);

function globalsFromSchema(file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const symbols = [];
  for (const [group, tables] of Object.entries(json)) {
    if (group === 'functions') continue;
    for (const [name, columns] of Object.entries(tables)) {
      const schema = '(' + Object.entries(columns).map(([column, v]) => `['${column.replace(/'/g, "\\'")}']:${v.data_type}`).join(', ') + ')';
      symbols.push(new K.Symbols.TableSymbol.$ctor7(name, schema, null));
    }
  }
  for (const [name, f] of Object.entries(json.functions || {})) {
    symbols.push(new K.Symbols.FunctionSymbol.$ctor14(name, f.parameters, f.body, null));
  }
  const db = new K.Symbols.DatabaseSymbol.$ctor1('db', Bridge.toList(symbols, K.Symbols.Symbol), false);
  return K.GlobalState.Default.WithDatabase(db);
}

// UTF-16 index -> UTF-8 byte offset.
function byteOffsets(text) {
  const offsets = new Float64Array(text.length + 1);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    offsets[i] = bytes;
    const ch = text.charCodeAt(i);
    if (ch < 0x80) bytes += 1;
    else if (ch < 0x800) bytes += 2;
    else if (ch >= 0xd800 && ch <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; i++; offsets[i] = bytes; continue;
    } else bytes += 3;
  }
  offsets[text.length] = bytes;
  return offsets;
}

const args = process.argv.slice(2);
const schemaIndex = args.indexOf('--schema-json');
if (schemaIndex < 0 || !args[schemaIndex + 1]) {
  console.error('usage: node kql_semantic.js --schema-json SCHEMA.json < units.jsonl');
  process.exit(2);
}
const globals = globalsFromSchema(args[schemaIndex + 1]);
const t0 = process.hrtime.bigint();
let units = 0;
const out = [];
const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (!line.trim()) return;
  const unit = JSON.parse(line);
  const text = unit.text || '';
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const offsets = byteOffsets(text);
  const syntaxErrors = list(code.GetSyntaxDiagnostics()).filter((d) => d.Severity === 'Error').length;
  const diagnostics = list(code.GetDiagnostics())
    .filter((d) => CODES.has(d.Code) && d.HasLocation)
    .map((d) => ({
      code: d.Code,
      name: text.substr(d.Start, d.Length),
      offset: offsets[d.Start],
      length: offsets[d.Start + d.Length] - offsets[d.Start],
      message: d.Message,
    }));
  units += 1;
  out.push(JSON.stringify({ id: unit.id, syntax_errors: syntaxErrors, diagnostics }));
  if (out.length >= 256) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
});
input.on('close', () => {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ summary: true, units, ms: Math.round(ms) }) + '\n');
});
