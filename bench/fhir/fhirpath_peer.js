// fhirpath.js (the npm `fhirpath` package, R4 model) on the official FHIRPath suite, timed like
// bench_fhirpath times fhir/fhirpath: every case that compiles, on its input, compiled once before
// the clock starts; one warm-up round, then ROUNDS timed ones. Also judges each case the way
// tests/conformance/fhirpath_suite.cpp does, except that numbers compare by value (a JS number
// keeps no decimal scale, so 1.58650000 cannot be told from 1.5865).
// Usage: node bench/fhir/fhirpath_peer.js CASES_JSON INPUT_DIR ROUNDS
//   CASES_JSON from `bench_fhirpath --export`; INPUT_DIR holds the suite's inputs as FHIR JSON.
const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

// Console output would be timed with the evaluations (Helsebro's engine writes none): trace() goes
// nowhere, and so do the peer's warnings (it warns when it truncates 7.7 days to 7).
const quiet = { traceFn: () => {} };
console.warn = () => {};

const [casesFile, inputDir, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 100);
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
const inputs = new Map();
const inputOf = (c) => {
  if (!c.input) return {};  // no input: the cases without one only use literals
  if (!inputs.has(c.input)) inputs.set(c.input, JSON.parse(fs.readFileSync(path.join(inputDir, c.input), 'utf8')));
  return inputs.get(c.input);
};

// The suite writes temporal outputs as literals (@1974-12-25, @T10:30); the peer gives them bare.
function expectedText(o) {
  const temporal = !o.type || ['date', 'dateTime', 'time'].includes(o.type);
  if (!temporal || !o.text.startsWith('@')) return o.text;
  return o.text.slice(o.text.startsWith('@T') ? 2 : 1);
}

function matches(expected, value, type) {
  // types() says "FHIR.date", "System.Integer": the suite's names differ from these only in case.
  const bare = type.slice(type.indexOf('.') + 1);
  if (expected.type && expected.type.toLowerCase() !== bare.toLowerCase()) return false;
  if (typeof value === 'number') return Number(expected.text) === value;
  return typeof value !== 'object' && String(value) === expectedText(expected);
}

function passes(c) {
  let raw;
  try {
    raw = fhirpath.compile(c.expression, r4, { ...quiet, resolveInternalTypes: false })(inputOf(c));
  } catch (e) {
    return c.invalid !== '';
  }
  if (c.invalid !== '') return false;
  const types = c.predicate ? ['System.Boolean'] : fhirpath.types(raw);
  const values = c.predicate ? [raw.length > 0] : fhirpath.resolveInternalTypes(raw);
  if (values.length !== c.outputs.length) return false;
  if (c.ordered) return c.outputs.every((o, i) => matches(o, values[i], types[i]));
  const used = new Set();
  return c.outputs.every((o) => {
    const i = values.findIndex((v, j) => !used.has(j) && matches(o, v, types[j]));
    used.add(i);
    return i >= 0;
  });
}

const timed = [];
for (const c of cases) {
  try {
    timed.push({ fn: fhirpath.compile(c.expression, r4, quiet), input: inputOf(c) });
  } catch (e) {
    // a case the peer cannot compile is not timed, as bench_fhirpath skips ours
  }
}
const round = () => {
  for (const t of timed) {
    try { t.fn(t.input); } catch (e) { /* an evaluation error costs its time too */ }
  }
};
round();
const t0 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) round();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

console.log(JSON.stringify({ version: require('fhirpath/package.json').version, cases: cases.length,
  timed: timed.length, evaluations_per_s: Math.round((timed.length * rounds) / seconds),
  passed: cases.filter(passes).length }));
