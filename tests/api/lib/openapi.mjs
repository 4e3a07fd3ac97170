// Checks live responses against docs/openapi.json, so the document and the
// server cannot drift apart: every JSON answer the suite receives from a
// documented operation and status must match the documented schema, and
// every error must have the documented error shape.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv from 'ajv';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DOC_PATH = path.join(ROOT, 'docs/openapi.json');
export const doc = JSON.parse(readFileSync(DOC_PATH, 'utf8'));

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, discriminator: true });
ajv.addSchema(doc, 'openapi.json');

const pointerPart = (s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1');
const compiled = new Map();

function validatorAt(pointer) {
  let v = compiled.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `openapi.json#${pointer}` });
    compiled.set(pointer, v);
  }
  return v;
}

// The documented path template that a concrete path matches, or null.
export function matchTemplate(pathname) {
  for (const template of Object.keys(doc.paths)) {
    const re = new RegExp('^' + template.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+') + '$');
    if (re.test(pathname)) return template;
  }
  return null;
}

function resolveResponse(response) {
  if (response && response.$ref) {
    const name = response.$ref.split('/').pop();
    return { obj: doc.components.responses[name], pointer: `/components/responses/${pointerPart(name)}` };
  }
  return { obj: response, pointer: null };
}

// Returns a list of problems (empty when the response conforms).
export function conformance(method, pathname, status, contentType, body) {
  const problems = [];
  const template = matchTemplate(pathname);
  const isJson = /^application\/json\b/.test(contentType || '');
  const op = template ? doc.paths[template][method.toLowerCase()] : null;
  const raw = op ? op.responses[String(status)] : null;
  // An operation may document an error body of its own (Open311's list of
  // errors); every other error has the shared Error shape.
  const ownError = Boolean(raw && !raw.$ref && raw.content?.['application/json']?.schema);
  if (status >= 400 && isJson && !ownError) {
    const v = validatorAt('/components/schemas/Error');
    if (!v(body)) problems.push(`error body does not match Error: ${ajv.errorsText(v.errors)}`);
  }
  if (!op) return problems;
  if (!raw) {
    if (status < 400) problems.push(`${method} ${template} answered ${status}, which the document does not list`);
    return problems;
  }
  const { obj, pointer } = resolveResponse(raw);
  const base = pointer ?? `/paths/${pointerPart(template)}/${method.toLowerCase()}/responses/${status}`;
  const content = obj.content ?? {};
  const types = Object.keys(content);
  if (types.length === 0) return problems;
  const media = types.find((t) => (contentType || '').startsWith(t));
  if (!media) {
    problems.push(`${method} ${template} ${status}: content type ${contentType} is not one of ${types.join(', ')}`);
    return problems;
  }
  if (media === 'application/json' && content[media].schema && (status < 400 || ownError)) {
    const v = validatorAt(`${base}/content/${pointerPart(media)}/schema`);
    if (!v(body)) problems.push(`${method} ${template} ${status} does not match the document: ${ajv.errorsText(v.errors)}`);
  }
  return problems;
}
