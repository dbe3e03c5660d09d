// The npm peers on the official examples, timed the same way as bench_fhir: Medplum's
// validateResource (@medplum/core 4.5.2) and FHIR.js's JSON->XML->JSON (fhir 4.12).
// Usage: node bench/fhir/peers.js EXAMPLES_DIR ROUNDS
const fs = require('fs');
const path = require('path');
const { validateResource, indexStructureDefinitionBundle } = require('@medplum/core');
const { Fhir } = require('fhir');

const dir = process.argv[2];
const rounds = Number(process.argv[3] || 3);
// Every example, as tests/conformance counts them: the package's JSON files but its manifest.
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json' && f !== '.index.json');
const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));

// Medplum validates against the definitions it has indexed: give it the same R4 ones.
for (const b of ['Bundle-types.json', 'Bundle-resources.json']) {
  indexStructureDefinitionBundle(JSON.parse(fs.readFileSync(path.join(dir, b), 'utf8')));
}

function best(fn) {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return min;
}

let medplumErrors = 0;
const medplumMs = best(() => {
  medplumErrors = 0;
  for (const t of texts) {
    try { validateResource(JSON.parse(t)); } catch (e) { medplumErrors++; }
  }
});

const fhir = new Fhir();
let fhirjsErrors = 0;
const fhirjsMs = best(() => {
  fhirjsErrors = 0;
  for (const t of texts) {
    try { fhir.xmlToJson(fhir.jsonToXml(t)); } catch (e) { fhirjsErrors++; }
  }
});

console.log(JSON.stringify({ files: texts.length, medplum_validate_ms: medplumMs, medplum_failed: medplumErrors,
  fhirjs_roundtrip_ms: fhirjsMs, fhirjs_failed: fhirjsErrors }));
