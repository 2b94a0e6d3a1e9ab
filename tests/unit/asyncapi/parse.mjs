// Parses each AsyncAPI document named on the command line with @asyncapi/parser (which
// validates against the specification's JSON Schema, resolves every $ref and applies the
// AsyncAPI 3 rules) and prints one JSON line per document: its errors (severity 0).
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const parser = new Parser();
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
  const errors = diagnostics.filter((d) => d.severity === 0)
    .map((d) => ({ code: d.code, message: d.message, path: d.path.join('/') }));
  console.log(JSON.stringify({ file, parsed: document !== undefined, errors }));
}
