#!/usr/bin/env node
// Generates fhir/model/r4_model.inc, the FHIR R4 type model, from the official definitions in the npm
// package hl7.fhir.r4.examples@4.0.1 (scripts/fetch-fhir-package.sh puts it in .cache/fhir/package).
//
//   node tools/generate-fhir-model.js [--package DIR] [--out FILE]
//
// Node.js 20, no npm dependencies. Deterministic: the same package gives a byte-identical file
// (no timestamps; everything is emitted in the order of the input bundles).
//
// What goes in: every StructureDefinition that defines a type (derivation "specialization", plus the
// roots Element and Resource that have none) and the two constraint profiles on Quantity that FHIR
// uses as types (SimpleQuantity, MoneyQuantity; Age, Count, Distance and Duration are
// specializations). Of each, every element of the snapshot in snapshot order: path, cardinality,
// types with their profiles and Reference/canonical targets, contentReference, flags, required
// bindings with their codes when the package can enumerate them, and the invariants (FHIRPath).
// The logical model MetadataResource is left out: it is no type any element or instance can have.
//
// Layout of the output (all integers index into the string table or into one of the flat lists; see
// fhir/model/tables.hpp for the reader): strings are interned once, lists (type lists, target lists,
// invariant lists, code lists) are interned as whole sequences, so the ~8,000 elements that share
// e.g. the invariant list [ele-1] all point at one copy.
'use strict';

const fs = require('fs');
const path = require('path');

const SD_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
const FHIRPATH_PREFIX = 'http://hl7.org/fhirpath/';
const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/regex';
const CONSTRAINT_PROFILES_USED_AS_TYPES = ['SimpleQuantity', 'MoneyQuantity'];
const MAX_BINDING_CODES = 1000;  // larger enumerations are not "small value sets"
const UNBOUNDED = 0xffffffff;

function parseArgs(argv) {
  return require('./generator-args').parseArgs(argv, 'generate-fhir-model.js', 'fhir/model/r4_model.inc');
}

function readBundle(pkg, file) {
  const p = path.join(pkg, file);
  if (!fs.existsSync(p)) {
    throw new Error(`${p} is missing; run scripts/fetch-fhir-package.sh first`);
  }
  return JSON.parse(fs.readFileSync(p, 'utf8')).entry.map((e) => e.resource);
}

// ---------------------------------------------------------------------------------------------
// Value sets: the codes of a required binding, when the package alone can enumerate them.

class Terminology {
  constructor(pkg) {
    this.valueSets = new Map();
    this.codeSystems = new Map();
    this.expansions = new Map();
    for (const file of ['Bundle-valuesets.json', 'Bundle-v3-valuesets.json', 'Bundle-v2-valuesets.json']) {
      for (const r of readBundle(pkg, file)) {
        const map = r.resourceType === 'ValueSet' ? this.valueSets : r.resourceType === 'CodeSystem' ? this.codeSystems : null;
        if (map && !map.has(r.url)) map.set(r.url, r);
      }
    }
    for (const r of readBundle(pkg, 'Bundle-valueset-expansions.json')) {
      if (r.resourceType === 'ValueSet' && r.expansion && !this.expansions.has(r.url)) this.expansions.set(r.url, r.expansion);
    }
    this.notes = [];  // differences between the compose and the published expansion
  }

  // Returns {codes: [[system, code], ...]} or {reason: '...'} when not enumerable.
  enumerate(canonical) {
    const url = canonical.split('|')[0];
    const fromCompose = this.fromCompose(url, new Set());
    const fromExpansion = this.fromExpansion(url);
    if (fromCompose.codes && fromExpansion.codes) {
      const a = new Set(fromCompose.codes.map((c) => c.join('#')));
      const b = new Set(fromExpansion.codes.map((c) => c.join('#')));
      const onlyCompose = [...a].filter((x) => !b.has(x));
      const onlyExpansion = [...b].filter((x) => !a.has(x));
      if (onlyCompose.length || onlyExpansion.length) {
        this.notes.push(`${url}: compose and expansion differ (only compose: ${onlyCompose.join(' ')}; only expansion: ${onlyExpansion.join(' ')})`);
      }
    }
    const result = fromCompose.codes ? fromCompose : fromExpansion.codes ? fromExpansion : {
      reason: `${fromCompose.reason}; ${fromExpansion.reason}`,
    };
    if (result.codes && result.codes.length > MAX_BINDING_CODES) {
      return { reason: `${result.codes.length} codes, more than ${MAX_BINDING_CODES}` };
    }
    return result;
  }

  fromCompose(url, visiting) {
    const vs = this.valueSets.get(url);
    if (!vs) return { reason: 'value set not in the package' };
    if (!vs.compose) return { reason: 'value set has no compose' };
    if (visiting.has(url)) return { reason: 'value set imports itself' };
    visiting.add(url);
    const codes = [];
    for (const inc of vs.compose.include || []) {
      const part = this.include(inc, visiting);
      if (!part.codes) return part;
      codes.push(...part.codes);
    }
    let result = dedupeCodes(codes);
    for (const exc of vs.compose.exclude || []) {
      const part = this.include(exc, visiting);
      if (!part.codes) return { reason: `exclude: ${part.reason}` };
      const drop = new Set(part.codes.map((c) => c.join('#')));
      result = result.filter((c) => !drop.has(c.join('#')));
    }
    visiting.delete(url);
    return { codes: result };
  }

  include(inc, visiting) {
    if (inc.filter && inc.filter.length) return { reason: `filter on ${inc.system} needs a terminology server` };
    let codes = null;
    if (inc.system) {
      if (inc.concept) {
        codes = inc.concept.map((c) => [inc.system, c.code]);
      } else {
        const cs = this.codeSystems.get(inc.system);
        if (!cs) return { reason: `code system ${inc.system} is not in the package` };
        if (cs.content !== 'complete') return { reason: `code system ${inc.system} is ${cs.content}` };
        codes = [];
        const walk = (concepts) => {
          for (const c of concepts || []) {
            if (!isAbstract(c)) codes.push([inc.system, c.code]);
            walk(c.concept);
          }
        };
        walk(cs.concept);
      }
    }
    for (const imported of inc.valueSet || []) {
      const part = this.fromCompose(imported.split('|')[0], visiting);
      if (!part.codes) return part;
      if (codes === null) codes = part.codes;
      else {
        const keep = new Set(part.codes.map((c) => c.join('#')));
        codes = codes.filter((c) => keep.has(c.join('#')));
      }
    }
    return { codes: codes || [] };
  }

  fromExpansion(url) {
    const exp = this.expansions.get(url);
    if (!exp) return { reason: 'no expansion in the package' };
    const open = (exp.extension || []).some((x) => /valueset-(toocostly|unclosed)$/.test(x.url) && x.valueBoolean);
    if (open) return { reason: 'the published expansion is marked too costly or unclosed' };
    const codes = [];
    const walk = (contains) => {
      for (const c of contains || []) {
        if (c.code && !c.abstract) codes.push([c.system, c.code]);
        walk(c.contains);
      }
    };
    walk(exp.contains);
    if (exp.total === undefined || exp.total !== codes.length) {
      return { reason: 'the published expansion does not state that it is complete' };
    }
    return { codes: dedupeCodes(codes) };
  }
}

// A concept marked notSelectable (or abstract) only groups others; instances cannot use it.
function isAbstract(concept) {
  return (concept.property || []).some((p) => (p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean === true);
}

function dedupeCodes(codes) {
  const seen = new Set();
  return codes.filter((c) => {
    const k = c.join('#');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Interning tables.

class Strings {
  constructor() {
    this.index = new Map([['', 0]]);
    this.list = [''];
  }
  id(s) {
    if (s === undefined || s === null) s = '';
    if (s.includes('\0')) throw new Error(`string with NUL: ${JSON.stringify(s)}`);
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

// Flat array of length-prefixed sequences of numbers; offset 0 is the empty sequence.
class Lists {
  constructor(stride) {
    this.stride = stride;  // numbers per item
    this.flat = [0];
    this.index = new Map([['', 0]]);
  }
  id(items) {  // items: array of numbers, length a multiple of stride
    if (items.length === 0) return 0;
    const key = items.join(',');
    let off = this.index.get(key);
    if (off === undefined) {
      off = this.flat.length;
      this.flat.push(items.length / this.stride, ...items);
      this.index.set(key, off);
    }
    return off;
  }
}

// Fixed-width rows, interned (identical rows share an index).
class Rows {
  constructor(stride) {
    this.stride = stride;
    this.flat = [];
    this.index = new Map();
  }
  id(row) {
    const key = row.join(',');
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.flat.length / this.stride;
      this.flat.push(...row);
      this.index.set(key, i);
    }
    return i;
  }
  get count() { return this.flat.length / this.stride; }
}

// ---------------------------------------------------------------------------------------------

const KIND = { 'primitive-type': 0, 'complex-type': 1, resource: 2 };
const TYPE_ABSTRACT = 1, TYPE_CONSTRAINT = 2;
const EL_MODIFIER = 1, EL_SUMMARY = 2, EL_XML_ATTR = 4, EL_XHTML = 8;

function selectStructureDefinitions(pkg) {
  const all = [...readBundle(pkg, 'Bundle-types.json'), ...readBundle(pkg, 'Bundle-resources.json')]
    .filter((r) => r.resourceType === 'StructureDefinition');
  const chosen = all.filter((sd) => {
    if (!(sd.kind in KIND)) return false;  // the logical model MetadataResource
    if (sd.derivation === 'specialization') return true;
    if (!sd.baseDefinition) return true;  // the roots Element and Resource
    return sd.derivation === 'constraint' && CONSTRAINT_PROFILES_USED_AS_TYPES.includes(sd.name);
  });
  const names = new Set();
  for (const sd of chosen) {
    if (names.has(sd.name)) throw new Error(`duplicate type ${sd.name}`);
    names.add(sd.name);
  }
  return chosen;
}

function stripSystem(code) {
  return code.startsWith(FHIRPATH_PREFIX) ? code.slice(FHIRPATH_PREFIX.length) : code;
}

function typeName(canonicalUrl) {
  const url = canonicalUrl.split('|')[0];
  if (!url.startsWith(SD_PREFIX)) throw new Error(`not a core StructureDefinition: ${canonicalUrl}`);
  return url.slice(SD_PREFIX.length);
}

function generate(pkg) {
  const terminology = new Terminology(pkg);
  const strings = new Strings();
  const stringLists = new Lists(1);        // [n, string...]
  const typeLists = new Lists(3);          // [n, (code, profile, target list)...]
  const invariantRows = new Rows(4);       // key, severity, human, expression
  const invariantLists = new Lists(1);     // [n, invariant...]
  const codeLists = new Lists(2);          // [n, (system, code)...]
  const bindingRows = new Rows(3);         // value set, codes known (0/1), code list
  const typeRows = [];
  const elementRows = [];
  const unenumerable = new Map();          // value set -> reason
  const bindingCodeCounts = new Map();
  const stats = { elements: 0, requiredBindings: 0, enumeratedBindings: 0, invariants: 0 };

  for (const sd of selectStructureDefinitions(pkg)) {
    const isConstraint = sd.derivation === 'constraint';
    const elements = sd.snapshot.element;
    const root = elements[0].path;
    if (root !== sd.type) throw new Error(`${sd.name}: snapshot root ${root} is not ${sd.type}`);
    // A constraint profile's snapshot uses its base type's paths ("Quantity.code"); name them by the profile.
    const rename = (p) => (isConstraint ? sd.name + p.slice(root.length) : p);

    let regex = '', valueType = '';
    if (sd.kind === 'primitive-type') {
      const value = elements.find((e) => e.path === `${sd.type}.value`);
      const t = value && value.type && value.type[0];
      if (t) {
        valueType = stripSystem(t.code);
        const r = (t.extension || []).find((x) => x.url === REGEX_EXT);
        if (r) regex = r.valueString;
      }
    }
    typeRows.push([
      strings.id(sd.name), KIND[sd.kind],
      (sd.abstract ? TYPE_ABSTRACT : 0) | (isConstraint ? TYPE_CONSTRAINT : 0),
      strings.id(sd.baseDefinition ? typeName(sd.baseDefinition) : ''),
      strings.id(regex), strings.id(valueType),
      elementRows.length / 8, elements.length,
    ]);

    for (const el of elements) {
      const types = [];
      for (const t of el.type || []) {
        const profiles = t.profile || [];
        if (profiles.length > 1) throw new Error(`${el.path}: more than one profile on ${t.code}`);
        types.push(strings.id(stripSystem(t.code)), strings.id(profiles.length ? typeName(profiles[0]) : ''),
          stringLists.id((t.targetProfile || []).map((p) => strings.id(typeName(p)))));
      }
      let binding = 0;
      if (el.binding && el.binding.strength === 'required') {
        stats.requiredBindings++;
        const vs = el.binding.valueSet;
        if (!vs) throw new Error(`${el.path}: required binding without a value set`);
        const r = terminology.enumerate(vs);
        if (r.codes) {
          stats.enumeratedBindings++;
          bindingCodeCounts.set(vs, r.codes.length);
        } else {
          unenumerable.set(vs, { reason: r.reason, paths: [...(unenumerable.get(vs)?.paths || []), rename(el.path)] });
        }
        const codes = r.codes ? codeLists.id(r.codes.flatMap(([s, c]) => [strings.id(s), strings.id(c)])) : 0;
        binding = 1 + bindingRows.id([strings.id(vs), r.codes ? 1 : 0, codes]);
      }
      const invariants = (el.constraint || []).map((c) => {
        stats.invariants++;
        return invariantRows.id([strings.id(c.key), strings.id(c.severity), strings.id(c.human), strings.id(c.expression)]);
      });
      const rep = el.representation || [];
      const flags = (el.isModifier ? EL_MODIFIER : 0) | (el.isSummary ? EL_SUMMARY : 0) |
        (rep.includes('xmlAttr') ? EL_XML_ATTR : 0) | (rep.includes('xhtml') ? EL_XHTML : 0);
      const max = el.max === '*' ? UNBOUNDED : Number(el.max);
      if (!Number.isInteger(el.min) || !Number.isInteger(max)) throw new Error(`${el.path}: odd cardinality`);
      elementRows.push(strings.id(rename(el.path)), el.min, max, typeLists.id(types),
        strings.id(el.contentReference || ''), binding, invariantLists.id(invariants), flags);
      stats.elements++;
    }
  }

  return {
    text: emit({ strings, stringLists, typeLists, invariantRows, invariantLists, codeLists, bindingRows, typeRows, elementRows }),
    stats, unenumerable, bindingCodeCounts, notes: terminology.notes,
    counts: { strings: strings.list.length, invariants: invariantRows.count, bindings: bindingRows.count, types: typeRows.length },
  };
}

// ---------------------------------------------------------------------------------------------
// C++ output.

function cppString(s) {
  let out = '"';
  let prev = '';
  for (const ch of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(ch);
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (c === '?' && prev === '?') out += '\\?';  // no trigraphs
    else if (ch < 0x20 || ch === 0x7f) out += '\\' + ch.toString(8).padStart(3, '0');
    else out += ch >= 0x80 ? '\\' + ch.toString(8).padStart(3, '0') : c;
    prev = c;
  }
  return out + '\\0"';
}

function numbers(name, values, perLine) {
  const lines = [];
  for (let i = 0; i < values.length; i += perLine) lines.push(values.slice(i, i + perLine).join(',') + ',');
  return `constexpr std::uint32_t ${name}[] = {\n${lines.join('\n')}\n};\n`;
}

function emit(t) {
  return [
    '// GENERATED by tools/generate-fhir-model.js from hl7.fhir.r4.examples@4.0.1 (FHIR R4 4.0.1).',
    '// Do not edit; regenerate with scripts/fetch-fhir-package.sh && node tools/generate-fhir-model.js.',
    '// Read by fhir/model/r4_data.cpp; the layout is described in fhir/model/tables.hpp.',
    '',
    '// Every unique string, each terminated by NUL; index 0 is the empty string.',
    'constexpr char strings[] =',
    t.strings.list.map(cppString).join('\n') + ';',
    '',
    '// Per type: name, kind, flags, base, regex, value type, first element, element count.',
    numbers('types', t.typeRows.flat(), 8),
    '// Per element: path, min, max, type list, content reference, binding + 1 (0 = none), invariant list, flags.',
    numbers('elements', t.elementRows, 8),
    '// Type lists: count, then per type: code, profile, target list.',
    numbers('type_lists', t.typeLists.flat, 24),
    '// String lists: count, then strings.',
    numbers('string_lists', t.stringLists.flat, 24),
    '// Per invariant: key, severity, human, expression.',
    numbers('invariants', t.invariantRows.flat, 4),
    '// Invariant lists: count, then invariants.',
    numbers('invariant_lists', t.invariantLists.flat, 24),
    '// Per required binding: value set, codes known, code list.',
    numbers('bindings', t.bindingRows.flat, 3),
    '// Code lists: count, then per code: system, code.',
    numbers('code_lists', t.codeLists.flat, 24),
  ].join('\n');
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const r = generate(args.pkg);
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  const tmp = `${args.out}.tmp${process.pid}`;
  fs.writeFileSync(tmp, r.text);
  fs.renameSync(tmp, args.out);
  if (args.quiet) return;
  const log = (s) => process.stderr.write(s + '\n');
  log(`wrote ${args.out}: ${Buffer.byteLength(r.text)} bytes`);
  log(`types ${r.counts.types}, elements ${r.stats.elements}, unique strings ${r.counts.strings}, ` +
      `invariants ${r.stats.invariants} (${r.counts.invariants} unique)`);
  log(`required bindings ${r.stats.requiredBindings}, with known codes ${r.stats.enumeratedBindings}, ` +
      `value sets ${r.counts.bindings}`);
  const largest = [...r.bindingCodeCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
  log(`largest enumerated: ${largest.map(([u, n]) => `${u} (${n})`).join(', ')}`);
  for (const [vs, { reason, paths }] of r.unenumerable) log(`codes not known: ${vs} (${paths.join(', ')}): ${reason}`);
  for (const n of r.notes) log(`note: ${n}`);
}

main();
