// openapi.mjs — read docs/openapi.yaml and check things against it: the document's structure
// (OpenAPI 3.1 meta-schema, every $ref resolves, every operation answers something), every
// example against its schema, and HTTP responses against the schema documented for their
// status.  Schemas are compiled by Ajv in JSON Schema 2020-12 mode (the dialect of OpenAPI
// 3.1) in strict mode, so that a misspelt keyword in the document is an error, not a no-op.
import fs from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMA_ID = 'https://mod-interactions.invalid/openapi';

/** Parse the YAML (duplicate keys are errors). */
export function loadSpec(file) {
  return loadSpecText(fs.readFileSync(file, 'utf8'));
}

/** Parse the YAML text of a document. */
export function loadSpecText(text) {
  return YAML.parse(text, { uniqueKeys: true, prettyErrors: true });
}

/** The value at a local JSON pointer ("#/components/schemas/X"), or undefined. */
export function resolvePointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  let cur = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Follow $ref (not inside schemas: those are Ajv's) until a plain object. */
export function deref(doc, obj) {
  const seen = new Set();
  while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
    if (seen.has(obj.$ref)) throw new Error(`$ref cycle at ${obj.$ref}`);
    seen.add(obj.$ref);
    const next = resolvePointer(doc, obj.$ref);
    if (next === undefined) throw new Error(`unresolved $ref ${obj.$ref}`);
    obj = next;
  }
  return obj;
}

/** Every {pointer, ref} of the document, for the resolution check. */
export function allRefs(doc) {
  const out = [];
  const walk = (node, ptr, seen) => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);   // aliases make shared objects: walk each once per path of descent
    if (typeof node.$ref === 'string') out.push({ pointer: ptr, ref: node.$ref });
    for (const [k, v] of Object.entries(node)) {
      walk(v, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, new Set(seen));
    }
  };
  walk(doc, '#', new Set());
  return out;
}

/** Every operation: {path, method, op, pathItem}. */
export function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      if (item[method]) out.push({ path, method, op: item[method], pathItem: item });
    }
  }
  return out;
}

/** The check against the OpenAPI meta-schema of the document's version (npm
 *  @seriousme/openapi-schema-validator); returns its errors, [] when valid. */
export async function metaSchemaErrors(doc) {
  const validator = new Validator();
  const res = await validator.validate(structuredClone(doc));
  if (!res.valid) return res.errors;
  if (validator.version !== '3.1') return [{ message: `OpenAPI version ${validator.version}, not 3.1` }];
  return [];
}

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const m = v.match(/^#\/components\/schemas\/(.+)$/);
      if (!m) throw new Error(`a schema $ref must point into #/components/schemas: ${v}`);
      out.$ref = `${SCHEMA_ID}#/$defs/${m[1]}`;
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

/**
 * The schema validator of a document: validator(schema) compiles a schema object of the
 * document (inline or a {$ref}) once and returns Ajv's validate function.
 */
export function schemaValidator(doc) {
  const ajv = new Ajv2020({
    strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true,
    allErrors: true,
  });
  addFormats(ajv);
  // OpenAPI's own schema keywords: annotations only
  for (const k of ['discriminator', 'example', 'externalDocs', 'xml']) ajv.addKeyword({ keyword: k });
  ajv.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(doc.components?.schemas || {}) });
  const cache = new Map();
  return (schema) => {
    if (!cache.has(schema)) cache.set(schema, ajv.compile(rewriteRefs(schema)));
    return cache.get(schema);
  };
}

/** Ajv's errors as one line each. */
export function explain(errors) {
  return (errors || []).map((e) => `${e.instancePath || '/'} ${e.message}${
    e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`).join('\n');
}

/** The examples of a media type object or parameter: [{name, value}]. */
export function examplesOf(doc, holder) {
  const out = [];
  if (holder.example !== undefined) out.push({ name: 'example', value: holder.example });
  for (const [name, ex] of Object.entries(holder.examples || {})) {
    const e = deref(doc, ex);
    if (e.value !== undefined) out.push({ name, value: e.value });
  }
  return out;
}

/**
 * Everything that carries examples, with the schema they must satisfy:
 * [{where, schema, examples:[{name,value}], kind}] where kind is request|response|parameter|header.
 */
export function exampleSites(doc) {
  const sites = [];
  const media = (where, content, kind) => {
    for (const [type, mt] of Object.entries(content || {})) {
      sites.push({ where: `${where} ${type}`, schema: mt.schema, examples: examplesOf(doc, mt), kind });
    }
  };
  const param = (where, p) => {
    p = deref(doc, p);
    if (p.content) media(`${where} parameter ${p.name}`, p.content, 'parameter');
    else sites.push({ where: `${where} parameter ${p.name}`, schema: p.schema, examples: examplesOf(doc, p), kind: 'parameter' });
  };
  for (const { path, method, op, pathItem } of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    for (const p of [...(pathItem.parameters || []), ...(op.parameters || [])]) param(where, p);
    if (op.requestBody) media(`${where} request`, deref(doc, op.requestBody).content, 'request');
    for (const [status, r] of Object.entries(op.responses || {})) {
      const resp = deref(doc, r);
      media(`${where} ${status}`, resp.content, 'response');
      for (const [h, hv] of Object.entries(resp.headers || {})) {
        const hd = deref(doc, hv);
        sites.push({ where: `${where} ${status} header ${h}`, schema: hd.schema, examples: examplesOf(doc, hd), kind: 'header' });
      }
    }
  }
  // responses used by no operation (the 405 of x-method-not-allowed): their examples count too
  for (const [name, r] of Object.entries(doc.components?.responses || {})) {
    media(`#/components/responses/${name}`, r.content, 'response');
  }
  if (doc['x-method-not-allowed']) media('#/x-method-not-allowed', doc['x-method-not-allowed'].content, 'response');
  return sites;
}

/** The operation object for an HTTP method and a path template of the document. */
export function findOperation(doc, method, pathTemplate) {
  const item = doc.paths?.[pathTemplate];
  const op = item?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${pathTemplate} is not documented`);
  return { op, pathItem: item };
}

/** The documented response of an operation for a status: {response, content type -> media}. */
export function documentedResponse(doc, method, pathTemplate, status) {
  const { op } = findOperation(doc, method, pathTemplate);
  const r = op.responses?.[String(status)];
  if (!r) return undefined;
  return deref(doc, r);
}

/** The request body schema of an operation for a content type (application/json). */
export function requestSchema(doc, method, pathTemplate, type = 'application/json') {
  const { op } = findOperation(doc, method, pathTemplate);
  if (!op.requestBody) return undefined;
  return deref(doc, op.requestBody).content?.[type]?.schema;
}
