// Open311 GeoReport v2 at /open311/v2/: every resource in XML (read with a
// real XML parser) and JSON, the errors and quirks real clients bring, the
// 90-day window, the status mapping, and the round trip a reporting site
// makes: a report posted as FixMyStreet posts it, staff moving the case
// through its stages, and the updates read back with stable ids.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { startServer, USERS, addEvent } from './lib/server.mjs';

const BASE = '/open311/v2/';
const J = 'northshire';
const DAY = 86400 * 1000;

// Elements that are list items, so that one item still parses as a list.
const ITEMS = new Set(['service', 'request', 'request_update', 'attribute', 'value', 'group',
  'error', 'endpoint', 'format']);
// A service's single <group> is not a list item; the ones inside <groups> are.
const parser = new XMLParser({
  parseTagValue: false,
  isArray: (name, jpath) => ITEMS.has(name) && (name !== 'group' || jpath.endsWith('groups.group')),
});

function form(fields) {
  const p = new URLSearchParams();
  for (const [k, v] of fields) p.append(k, v);
  return p.toString();
}

function multipart(fields, boundary = 'xYzZy-0311') {
  let out = '';
  for (const [k, v, filename] of fields) {
    out += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"`;
    if (filename) out += `; filename="${filename}"\r\nContent-Type: image/jpeg`;
    out += `\r\n\r\n${v}\r\n`;
  }
  return { body: `${out}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

// One Open311 exchange; `xml` holds the parsed document for .xml answers.
async function call(s, method, resource, { query = {}, body, contentType } = {}) {
  const qs = new URLSearchParams(query).toString();
  const r = await s.req(method, BASE + resource + (qs ? `?${qs}` : ''), {
    body,
    contentType: body !== undefined ? (contentType ?? 'application/x-www-form-urlencoded') : undefined,
  });
  if (resource.endsWith('.xml') && r.contentType.startsWith('text/xml')) {
    assert.equal(r.contentType, 'text/xml; charset=utf-8');
    assert.ok(r.text.startsWith('<?xml version="1.0" encoding="utf-8"?>'), r.text.slice(0, 80));
    assert.equal(XMLValidator.validate(r.text), true, `well-formed XML: ${r.text.slice(0, 300)}`);
    r.xml = parser.parse(r.text);
  }
  return r;
}

function xmlError(r, status, pattern) {
  assert.equal(r.status, status, `${r.request}: ${r.text.slice(0, 400)}`);
  const errors = r.xml.errors.error;
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, String(status));
  if (pattern) assert.match(errors[0].description, pattern);
}

function jsonError(r, status, pattern) {
  assert.equal(r.status, status, `${r.request}: ${r.text.slice(0, 400)}`);
  assert.ok(Array.isArray(r.body) && r.body.length === 1, r.text);
  assert.equal(r.body[0].code, status);
  if (pattern) assert.match(r.body[0].description, pattern);
}

let fmsCount = 0;
// A report as FixMyStreet sends it; `extra` adds or replaces fields.
function fmsReport(key, extra = []) {
  fmsCount += 1;
  const fields = [
    ['jurisdiction_id', J], ['api_key', key], ['service_code', 'potholes'],
    ['lat', '54.5231'], ['long', '-1.5598'], ['email', 'Jo.Bloggs@Example.com'],
    ['first_name', 'Jo'], ['last_name', 'Bloggs'], ['phone', '+44 7700 900123'],
    ['description', `title: Pothole ${fmsCount}\r\n\r\ndetail: Deep hole by the bus stop\r\n\r\nSubmitted via FixMyStreet`],
    ['media_url', `https://fms.example/photo/${fmsCount}.jpeg`],
    ['attribute[depth]', 'deep'], ['attribute[fixmystreet_id]', `fms-${process.pid}-${fmsCount}`],
    ['attribute[title]', `Pothole ${fmsCount}`], ['attribute[easting]', '429000'],
  ];
  for (const [k, v] of extra) {
    const i = fields.findIndex(([f]) => f === k);
    if (v === null) fields.splice(i, 1);
    else if (i >= 0 && !k.endsWith('[]')) fields[i] = [k, v];
    else fields.push([k, v]);
  }
  return fields;
}

async function postReport(s, key, extra) {
  const r = await call(s, 'POST', 'requests.xml', { body: form(fmsReport(key, extra)) });
  assert.equal(r.status, 200, r.text);
  const req = r.xml.service_requests.request[0];
  assert.match(req.service_request_id, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]$/);
  return req;
}

describe('open311', () => {
  let s;
  let key;
  let admin;
  let caseworker;
  before(async () => {
    s = await startServer({ cases: 200 });
    key = await s.createKey(J, 'FixMyStreet', 'caseworker');
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
  });
  after(async () => {
    await s?.close();
  });

  it('serves a discovery document in both formats', async () => {
    const x = await call(s, 'GET', 'discovery.xml');
    assert.equal(x.status, 200);
    const ep = x.xml.discovery.endpoints.endpoint[0];
    assert.equal(ep.specification, 'http://wiki.open311.org/GeoReport_v2');
    assert.equal(ep.url, `${s.base}/open311/v2/`);
    assert.deepEqual(ep.formats.format, ['text/xml', 'application/json']);
    const j = await call(s, 'GET', 'discovery.json');
    assert.equal(j.status, 200);
    assert.equal(j.body.endpoints[0].url, ep.url);
  });

  it('lists the services offered through Open311, with groups and keywords', async () => {
    const x = await call(s, 'GET', 'services.xml', { query: { jurisdiction_id: J } });
    assert.equal(x.status, 200);
    const list = x.xml.services.service;
    const pot = list.find((v) => v.service_code === 'potholes');
    assert.ok(pot, x.text);
    assert.equal(pot.service_name, 'Pothole');
    assert.equal(pot.metadata, 'true');
    assert.equal(pot.type, 'realtime');
    assert.equal(pot.keywords, 'pothole,road,carriageway');
    assert.equal(pot.group, 'Roads and pavements');
    assert.deepEqual(pot.groups.group, ['Roads and pavements']);
    assert.ok(!list.some((v) => v.service_code === 'parking-permit'), 'a service without metadata is not offered');
    const j = await call(s, 'GET', 'services.json', { query: { jurisdiction_id: J } });
    assert.equal(j.status, 200);
    assert.deepEqual(j.body.map((v) => v.service_code), list.map((v) => v.service_code));
    assert.deepEqual(j.body.find((v) => v.service_code === 'potholes').groups, ['Roads and pavements']);
    // Another organisation offers nothing yet: an empty list, not an error.
    const w = await call(s, 'GET', 'services.json', { query: { jurisdiction_id: 'wessex-police' } });
    assert.deepEqual(w.body, []);
  });

  it('needs jurisdiction_id while it serves several organisations, and knows only real ones', async () => {
    xmlError(await call(s, 'GET', 'services.xml'), 400, /jurisdiction_id/);
    jsonError(await call(s, 'GET', 'services.json'), 400, /jurisdiction_id/);
    xmlError(await call(s, 'GET', 'services.xml', { query: { jurisdiction_id: 'atlantis' } }), 404);
    jsonError(await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: 'Bad Slug!' } }), 404);
    // An empty parameter counts as absent.
    xmlError(await call(s, 'GET', 'services.xml', { query: { jurisdiction_id: '' } }), 400, /jurisdiction_id/);
  });

  it('answers an unknown extension with a plain 404', async () => {
    for (const p of ['services.csv', 'services.XML', 'services/potholes.html', 'services/potholes',
      'requests/ABCD.yaml', 'tokens/ABC']) {
      const r = await s.req('GET', `${BASE}${p}?jurisdiction_id=${J}`);
      assert.equal(r.status, 404, p);
      assert.match(r.contentType, /^text\/plain/, p);
      assert.match(r.text, /\.xml or \.json/);
    }
  });

  it('defines a service: attributes in order, with values and automated fields', async () => {
    const x = await call(s, 'GET', 'services/potholes.xml', { query: { jurisdiction_id: J } });
    assert.equal(x.status, 200, x.text);
    const def = x.xml.service_definition;
    assert.equal(def.service_code, 'potholes');
    const attrs = def.attributes.attribute;
    assert.deepEqual(attrs.map((a) => a.code), ['depth', 'location_on_road', 'fixmystreet_id']);
    assert.deepEqual(attrs.map((a) => a.order), ['1', '2', '3']);
    assert.equal(attrs[0].datatype, 'singlevaluelist');
    assert.equal(attrs[0].required, 'true');
    assert.equal(attrs[0].variable, 'true');
    assert.deepEqual(attrs[0].values.value.map((v) => v.key), ['shallow', 'deep']);
    assert.equal(attrs[1].datatype, 'multivaluelist');
    assert.equal(attrs[2].automated, 'server_set');
    const j = await call(s, 'GET', 'services/potholes.json', { query: { jurisdiction_id: J } });
    assert.equal(j.body.attributes[0].values[1].name, '4 cm or more');
    xmlError(await call(s, 'GET', 'services/parking-permit.xml', { query: { jurisdiction_id: J } }), 404);
    jsonError(await call(s, 'GET', 'services/nothing.json', { query: { jurisdiction_id: J } }), 404);
  });

  describe('a service with every datatype', () => {
    before(async () => {
      const r = await s.req('POST', '/api/v1/services', {
        auth: admin,
        json: {
          code: 'street-light',
          name: 'Street light fault',
          target_days: 5,
          workflow: {
            stages: [
              { code: 'received', name: 'Received', milestone: true },
              { code: 'working', name: 'Working on it', milestone: false },
              { code: 'done', name: 'Done', milestone: true, terminal: true },
            ],
            transitions: { received: ['working', 'done'], working: ['done'] },
          },
          open311: {
            groups: ['Lighting'],
            attributes: [
              { code: 'column', datatype: 'number', required: true, description: 'Column number' },
              { code: 'noticed', datatype: 'datetime', description: 'When did you notice it?' },
              { code: 'colour', datatype: 'string', description: 'Colour of the light' },
              { code: 'notes', datatype: 'text', description: 'Anything else' },
              { code: 'fault', datatype: 'singlevaluelist', description: 'Fault',
                values: [{ key: 'dark', name: 'Not lit' }, { key: 'day', name: 'Lit by day' }] },
              { code: 'when', datatype: 'multivaluelist', description: 'When',
                values: [{ key: 'night', name: 'Night' }, { key: 'morning', name: 'Morning' }] },
              { code: 'info', datatype: 'string', variable: false, description: 'We fix most lights within 5 days.' },
            ],
          },
        },
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.open311.groups[0], 'Lighting');
    });

    const light = (fields) => form([['jurisdiction_id', J], ['api_key', key], ['service_code', 'street-light'],
      ['address_string', '12 Station Road'], ...fields]);

    it('checks each attribute against its datatype and names the one that is wrong', async () => {
      const cases = [
        [[['attribute[column]', 'twelve']], /attribute\[column\].*number/],
        [[], /attribute\[column\] is required/],
        [[['attribute[column]', '']], /attribute\[column\] is required/],
        [[['attribute[column]', '12'], ['attribute[noticed]', 'yesterday']], /attribute\[noticed\].*date-time/],
        [[['attribute[column]', '12'], ['attribute[noticed]', '2026-02-30T10:00:00Z']], /attribute\[noticed\]/],
        [[['attribute[column]', '12'], ['attribute[fault]', 'flickering']], /attribute\[fault\].*values/],
        [[['attribute[column]', '12'], ['attribute[fault]', 'dark'], ['attribute[fault]', 'day']], /attribute\[fault\] takes one value/],
        [[['attribute[column]', '12'], ['attribute[when][]', 'night'], ['attribute[when][]', 'noon']], /attribute\[when\]/],
        [[['attribute[column]', '12'], ['attribute[colour]', 'red\nblue']], /attribute\[colour\]/],
      ];
      for (const [fields, pattern] of cases) {
        xmlError(await call(s, 'POST', 'requests.xml', { body: light(fields) }), 400, pattern);
      }
    });

    it('accepts W3C date-times with Z, an offset or a fraction, lists as repeated keys or with [], and ignores unknown attributes', async () => {
      for (const noticed of ['2026-11-20T18:30:00Z', '2026-11-20T18:30:00+01:00', '2026-11-20T18:30:00.250-05:00']) {
        const r = await call(s, 'POST', 'requests.json', {
          body: light([['attribute[column]', '-12.5e1'], ['attribute[noticed]', noticed], ['attribute[fault]', 'dark'],
            ['attribute[when]', 'night'], ['attribute[when]', 'morning'], ['attribute[notes]', 'line one\r\nline two'],
            ['attribute[unknown_thing]', 'whatever'], ['attribute[info]', 'ignored'], ['description', `noticed ${noticed}`]]),
        });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.body[0].service_request_id);
      }
      const r = await call(s, 'POST', 'requests.json', {
        body: light([['attribute[column]', '7'], ['attribute[when][]', 'night'], ['attribute[when][]', 'morning']]),
      });
      assert.equal(r.status, 200, r.text);
    });

    it('maps unmapped stages by whether they close the case', async () => {
      const r = await call(s, 'POST', 'requests.json', { body: light([['attribute[column]', '99']]) });
      const id = r.body[0].service_request_id;
      let got = await call(s, 'GET', `requests/${id}.json`, { query: { jurisdiction_id: J } });
      assert.equal(got.body[0].status, 'open');
      await addEvent(s, caseworker, id, { type: 'stage_change', stage: 'done' });
      got = await call(s, 'GET', `requests/${id}.json`, { query: { jurisdiction_id: J } });
      assert.equal(got.body[0].status, 'closed');
      assert.equal(got.body[0].expected_datetime, null);
    });

    it('refuses metadata that does not fit the workflow or the spec', async () => {
      const base = (open311) => ({
        name: 'Street light fault', target_days: 5,
        workflow: { stages: [{ code: 'received', name: 'Received', milestone: true },
          { code: 'done', name: 'Done', milestone: true, terminal: true }], transitions: { received: ['done'] } },
        open311,
      });
      const bad = [
        [{ stages: { nowhere: { status: 'open' } } }, 'open311.stages.nowhere'],
        [{ stages: { done: { status: 'finished' } } }, 'open311.stages.done.status'],
        [{ stages: { done: { status: 'closed', extended_status: 'sorted' } } }, 'open311.stages.done.extended_status'],
        [{ attributes: [{ code: 'x', datatype: 'colour', description: 'x' }] }, 'open311.attributes[0].datatype'],
        [{ attributes: [{ code: 'x', datatype: 'singlevaluelist', description: 'x' }] }, 'open311.attributes[0].values'],
        [{ attributes: [{ code: 'x', datatype: 'string', description: 'x' }, { code: 'x', datatype: 'text', description: 'y' }] }, 'open311.attributes[1].code'],
        [{ attributes: [{ code: 'a[b]', datatype: 'string', description: 'x' }] }, 'open311.attributes[0].code'],
        [{ colour: 'blue' }, 'open311.colour'],
      ];
      for (const [open311, field] of bad) {
        const r = await s.req('PUT', '/api/v1/services/street-light', { auth: admin, json: base(open311) });
        assert.equal(r.status, 400, JSON.stringify(open311));
        assert.equal(r.body.error.field, field);
      }
      const cw = await s.req('PUT', '/api/v1/services/street-light', { auth: caseworker, json: base({}) });
      assert.equal(cw.status, 403);
    });
  });

  it('turns a report posted as FixMyStreet posts it into an ordinary case', async () => {
    const created = await postReport(s, key);
    const id = created.service_request_id;
    assert.match(created.token, /^[0-9A-Z]{20}$/);
    assert.match(created.service_notice, new RegExp(id));

    const x = await call(s, 'GET', `requests/${id}.xml`, { query: { jurisdiction_id: J } });
    assert.equal(x.status, 200, x.text);
    const req = x.xml.service_requests.request[0];
    assert.equal(req.service_request_id, id);
    assert.equal(req.status, 'open');
    assert.equal(req.service_code, 'potholes');
    assert.equal(req.agency_responsible, 'Northshire Council');
    assert.equal(req.lat, '54.5231');
    assert.equal(req.long, '-1.5598');
    assert.match(req.media_url, /^https:\/\/fms\.example\/photo\//);
    assert.match(req.description, /^title: Pothole \d+\n\ndetail: Deep hole/, 'CRLF becomes LF');
    assert.match(req.requested_datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.match(req.expected_datetime, /\+00:00$/);
    const j = await call(s, 'GET', `requests/${id}.json`, { query: { jurisdiction_id: J } });
    assert.equal(j.body[0].lat, 54.5231);
    assert.equal(j.body[0].description, req.description);

    // Staff see a normal case with the reporter as its person.
    const c = await s.req('GET', `/api/v1/cases/${id}`, { auth: caseworker });
    assert.equal(c.status, 200);
    assert.equal(c.body.case.service, 'potholes');
    assert.equal(c.body.case.stage, 'reported');
    assert.deepEqual(c.body.case.person, { name: 'Jo Bloggs', email: 'jo.bloggs@example.com', phone: '+44 7700 900123', address: null, postcode: null });
    assert.equal(c.body.events[0].type, 'opened');
    assert.equal(c.body.events[0].actor, 'FixMyStreet');
    // The reporter tracks it with the reference and their email address.
    const t = await s.req('GET', `/api/v1/track/${id}`, { headers: { 'x-tracking-email': 'jo.bloggs@example.com' } });
    assert.equal(t.status, 200, t.text);

    // The token finds the same request.
    const tok = await call(s, 'GET', `tokens/${created.token}.xml`, { query: { jurisdiction_id: J } });
    assert.equal(tok.xml.service_requests.request[0].service_request_id, id);
    const tj = await call(s, 'GET', `tokens/${created.token}.json`, { query: { jurisdiction_id: J } });
    assert.equal(tj.body[0].service_request_id, id);
    xmlError(await call(s, 'GET', 'tokens/NOSUCHTOKEN0000000000.xml', { query: { jurisdiction_id: J } }), 404);
    jsonError(await call(s, 'GET', `tokens/${created.token}.json`, { query: { jurisdiction_id: 'wessex-police' } }), 404);
  });

  it('opens one case for a retried report: the same fixmystreet_id, or the same body', async () => {
    const fields = fmsReport(key);
    const first = await call(s, 'POST', 'requests.xml', { body: form(fields) });
    const again = await call(s, 'POST', 'requests.xml', { body: form(fields) });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.xml.service_requests.request[0].service_request_id, first.xml.service_requests.request[0].service_request_id);
    // The reporting site's id decides even when the rest changed.
    const fmsId = fields.find(([k]) => k === 'attribute[fixmystreet_id]')[1];
    const edited = await postReport(s, key, [['attribute[fixmystreet_id]', fmsId], ['description', 'edited']]);
    assert.equal(edited.service_request_id, first.xml.service_requests.request[0].service_request_id);
    // Without an id, the same body twice is one case, a different body another.
    const plain = form(fmsReport(key, [['attribute[fixmystreet_id]', null], ['description', `no id ${Date.now()}`]]));
    const a = await call(s, 'POST', 'requests.json', { body: plain });
    const b = await call(s, 'POST', 'requests.json', { body: plain });
    assert.equal(a.body[0].service_request_id, b.body[0].service_request_id);
    const other = await postReport(s, key, [['attribute[fixmystreet_id]', null], ['description', `other ${Date.now()}`]]);
    assert.notEqual(other.service_request_id, a.body[0].service_request_id);
    // Concurrent retries still make one case.
    const racing = form(fmsReport(key));
    const all = await Promise.all([1, 2, 3, 4].map(() => call(s, 'POST', 'requests.json', { body: racing })));
    assert.equal(new Set(all.map((r) => r.body[0].service_request_id)).size, 1);
  });

  it('reads multipart bodies, deviceid, repeated media_url and empty parameters as absent', async () => {
    const { body, contentType } = multipart([
      ['jurisdiction_id', J], ['api_key', key], ['service_code', 'potholes'],
      ['address_string', 'Corner of Mill Lane'], ['lat', ''], ['long', ''], ['phone', ''],
      ['deviceid', 'device-42'], ['email', 'sam@example.org'], ['first_name', 'Sam'],
      ['description', 'Line one\r\nLine two'], ['attribute[depth]', 'shallow'],
      ['attribute[location_on_road][]', 'carriageway'], ['attribute[location_on_road][]', 'cycle_lane'],
      ['media_url', 'https://fms.example/a.jpeg'], ['media_url', 'https://fms.example/b.jpeg'],
      ['photo', '\xff\xd8binary', 'pothole.jpeg'],
    ]);
    const r = await call(s, 'POST', 'requests.xml', { body, contentType });
    assert.equal(r.status, 200, r.text);
    const id = r.xml.service_requests.request[0].service_request_id;
    const got = await call(s, 'GET', `requests/${id}.json`, { query: { jurisdiction_id: J } });
    assert.equal(got.body[0].address, 'Corner of Mill Lane');
    assert.equal(got.body[0].lat, null);
    assert.equal(got.body[0].description, 'Line one\nLine two');
    assert.equal(got.body[0].media_url, 'https://fms.example/a.jpeg');
    const c = await s.req('GET', `/api/v1/cases/${id}`, { auth: caseworker });
    assert.equal(c.body.case.person.name, 'Sam');
    assert.equal(c.body.case.person.phone, null);
    // A malformed multipart body is a 400, not a crash.
    xmlError(await call(s, 'POST', 'requests.xml', { body: '--nope\r\n', contentType: 'multipart/form-data; boundary=other' }), 400);
    xmlError(await call(s, 'POST', 'requests.xml', { body: '{}', contentType: 'application/json' }), 400, /form-urlencoded/);
  });

  it('answers each bad request with the spec error and status', async () => {
    const wessexKey = await s.createKey('wessex-police', 'Other force', 'caseworker');
    const analystKey = await s.createKey(J, 'Dashboard', 'analyst');
    const post = (extra, fmt = 'xml') => call(s, 'POST', `requests.${fmt}`, { body: form(fmsReport(key, extra)) });
    xmlError(await post([['api_key', null]]), 400, /api_key/);
    xmlError(await post([['api_key', 'oc_not_a_key']]), 403);
    jsonError(await post([['api_key', 'oc_not_a_key']], 'json'), 403);
    xmlError(await post([['api_key', wessexKey]]), 403, /jurisdiction/);
    xmlError(await post([['api_key', analystKey]]), 403, /role/);
    xmlError(await post([['service_code', 'parking-permit']]), 400, /service_code/);
    xmlError(await post([['service_code', null]]), 400, /service_code is required/);
    xmlError(await post([['lat', null], ['long', null]]), 400, /location/);
    xmlError(await post([['lat', '95']]), 400, /lat and long/);
    xmlError(await post([['long', null]]), 400, /lat and long/);
    xmlError(await post([['lat', '51.5; DROP']]), 400, /lat and long/);
    xmlError(await post([['email', 'not-an-email']]), 400, /email/);
    xmlError(await post([['phone', 'call me']]), 400, /phone/);
    xmlError(await post([['media_url', 'javascript:alert(1)']]), 400, /media_url/);
    xmlError(await post([['attribute[depth]', null]]), 400, /attribute\[depth\] is required/);
    jsonError(await post([['attribute[depth]', 'bottomless']], 'json'), 400, /attribute\[depth\]/);
    xmlError(await post([['attribute[location_on_road][]', 'sky']]), 400, /attribute\[location_on_road\]/);
    xmlError(await post([['jurisdiction_id', 'atlantis']]), 404);
    xmlError(await call(s, 'POST', 'requests.xml', { body: 'a=%zz' }), 400, /malformed/);
  });

  it('lists requests in a window of at most 90 days, by service, status and id', async () => {
    const now = Date.now();
    const iso = (t) => new Date(t).toISOString();
    const all = await call(s, 'GET', 'requests.xml', { query: { jurisdiction_id: J } });
    assert.equal(all.status, 200);
    const items = all.xml.service_requests.request;
    assert.ok(items.length > 10, `${items.length} requests`);
    for (const r of items) {
      const t = Date.parse(r.requested_datetime);
      assert.ok(t >= now - 90 * DAY - 60000 && t <= now + 60000, r.requested_datetime);
      assert.ok(['potholes', 'street-light'].includes(r.service_code));
    }
    const times = items.map((r) => Date.parse(r.requested_datetime));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'most recent first');
    const json = await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J } });
    assert.deepEqual(json.body.map((r) => r.service_request_id), items.map((r) => r.service_request_id));

    // A window in the past, with offsets: only requests inside it.
    const from = now - 60 * DAY;
    const to = now - 30 * DAY;
    const win = await call(s, 'GET', 'requests.json', {
      query: { jurisdiction_id: J, start_date: iso(from).replace('Z', '+00:00'), end_date: iso(to + 3600000).replace(/\.\d+Z$/, '+01:00') },
    });
    assert.equal(win.status, 200, win.text);
    for (const r of win.body) {
      const t = Date.parse(r.requested_datetime);
      assert.ok(t >= from - 1000 && t <= to + 1000, r.requested_datetime);
    }
    const older = await call(s, 'GET', 'requests.json', {
      query: { jurisdiction_id: J, start_date: iso(now - 200 * DAY), end_date: iso(now - 120 * DAY) },
    });
    assert.equal(older.status, 200);
    for (const r of older.body) assert.ok(Date.parse(r.requested_datetime) <= now - 120 * DAY + 1000);

    xmlError(await call(s, 'GET', 'requests.xml', { query: { jurisdiction_id: J, start_date: iso(now - 91 * DAY), end_date: iso(now) } }), 400, /90 days/);
    xmlError(await call(s, 'GET', 'requests.xml', { query: { jurisdiction_id: J, start_date: iso(now), end_date: iso(now - DAY) } }), 400, /after/);
    xmlError(await call(s, 'GET', 'requests.xml', { query: { jurisdiction_id: J, start_date: 'last week' } }), 400, /start_date/);
    jsonError(await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J, status: 'pending' } }), 400, /status/);
    jsonError(await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J, service_code: 'parking-permit' } }), 400);

    const open = await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J, status: 'open', service_code: 'potholes' } });
    const closed = await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J, status: 'closed', service_code: 'potholes' } });
    assert.ok(open.body.length > 0 && closed.body.length > 0);
    assert.ok(open.body.every((r) => r.status === 'open' && r.service_code === 'potholes'));
    assert.ok(closed.body.every((r) => r.status === 'closed' && r.service_code === 'potholes'));
    const lights = await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: J, service_code: 'street-light' } });
    assert.ok(lights.body.length > 0 && lights.body.every((r) => r.service_code === 'street-light'));

    // service_request_id overrides every other filter; unknown ids are left out.
    const ids = [items[0].service_request_id, closed.body[0].service_request_id];
    const byId = await call(s, 'GET', 'requests.xml', {
      query: { jurisdiction_id: J, service_request_id: `${ids.join(',')},ZZZZ-ZZZZ-Z,nonsense`, status: 'open', start_date: iso(now - 200 * DAY), end_date: iso(now - 190 * DAY) },
    });
    assert.equal(byId.status, 200, byId.text);
    assert.deepEqual(byId.xml.service_requests.request.map((r) => r.service_request_id), ids);
    // Another organisation's ids are not found through this jurisdiction.
    const wessex = await call(s, 'GET', 'requests.json', { query: { jurisdiction_id: 'wessex-police', service_request_id: ids.join(',') } });
    assert.deepEqual(wessex.body, []);
    jsonError(await call(s, 'GET', `requests/${ids[0]}.json`, { query: { jurisdiction_id: 'wessex-police' } }), 404);
    xmlError(await call(s, 'GET', 'requests/NOT-A-REF.xml', { query: { jurisdiction_id: J } }), 404);
  });

  it('round trip: staff move the case, the reporting site reads every public change back with stable ids', async () => {
    const started = new Date(Date.now() - 5000).toISOString();
    const created = await postReport(s, key);
    const id = created.service_request_id;
    await addEvent(s, caseworker, id, { type: 'stage_change', stage: 'inspecting' });
    await addEvent(s, caseworker, id, { type: 'public_note', note: 'Inspector visits on Tuesday.' });
    await addEvent(s, caseworker, id, { type: 'internal_note', note: 'Not for the public.' });
    await addEvent(s, caseworker, id, { type: 'stage_change', stage: 'repair_scheduled', note: 'Repair booked.' });
    const closing = await s.req('POST', `/api/v1/cases/${id}/close`, { auth: caseworker, json: { stage: 'fixed' } });
    assert.equal(closing.status, 200, closing.text);

    const q = { jurisdiction_id: J, api_key: key, start_date: started };
    const x = await call(s, 'GET', 'servicerequestupdates.xml', { query: q });
    assert.equal(x.status, 200, x.text);
    const mine = x.xml.service_requests_updates.request_update.filter((u) => u.service_request_id === id);
    assert.deepEqual(mine.map((u) => u.status), ['investigating', 'investigating', 'action_scheduled', 'fixed']);
    assert.deepEqual(mine.map((u) => u.description), ['Being inspected', 'Inspector visits on Tuesday.', 'Repair booked.', 'Repaired']);
    assert.equal(mine[2].external_status_code, 'SCHED');
    assert.equal(mine[3].external_status_code, 'FIXED');
    assert.equal(mine[0].external_status_code, undefined);
    for (const u of mine) assert.match(u.updated_datetime, /\+00:00$/);
    assert.ok(!mine.some((u) => /Not for the public/.test(u.description)));
    const ids = mine.map((u) => u.update_id);
    assert.equal(new Set(ids).size, ids.length, 'unique update ids');

    // Read again, in JSON: the same updates with the same ids.
    const j = await call(s, 'GET', 'servicerequestupdates.json', { query: q });
    assert.deepEqual(j.body.filter((u) => u.service_request_id === id).map((u) => u.update_id), ids);
    const events = (await s.req('GET', `/api/v1/cases/${id}`, { auth: caseworker })).body.events;
    for (const u of ids) assert.ok(events.some((e) => String(e.id) === u), `update ${u} is an event`);

    const after = await call(s, 'GET', `requests/${id}.json`, { query: { jurisdiction_id: J } });
    assert.equal(after.body[0].status, 'closed');
    // A window after the changes holds none of them.
    const later = await call(s, 'GET', 'servicerequestupdates.json', { query: { ...q, start_date: new Date(Date.now() + 60000).toISOString(), end_date: new Date(Date.now() + 120000).toISOString() } });
    assert.deepEqual(later.body, []);

    // The reporting site sends the reporter's comment and a status request back.
    const post = (fields, fmt = 'xml') => call(s, 'POST', `servicerequestupdates.${fmt}`, {
      body: form([['jurisdiction_id', J], ['api_key', key], ['service_request_id', id], ...fields]),
    });
    const u1 = await post([['description', 'Still a hole here!\r\nPlease check.'], ['status', 'REOPEN'],
      ['updated_datetime', '2026-11-30T10:00:00+01:00'], ['email', 'jo@example.com'], ['update_id_ext', '77']]);
    assert.equal(u1.status, 200, u1.text);
    const updateId = u1.xml.service_requests_updates.request_update[0].update_id;
    assert.match(updateId, /^\d+$/);
    assert.ok(!ids.includes(updateId));
    const u2 = await post([['description', 'Thanks']], 'json');
    assert.match(u2.body[0].update_id, /^\d+$/);
    const msgs = (await s.req('GET', `/api/v1/cases/${id}`, { auth: caseworker })).body.events.filter((e) => e.type === 'message');
    assert.equal(msgs.length, 2);
    assert.equal(String(msgs[0].id), updateId);
    assert.match(msgs[0].note, /^Still a hole here!\nPlease check\.\n\nThe reporter asks for the status: reopen\.$/);

    xmlError(await post([['status', 'sorted']]), 400, /status/);
    xmlError(await post([]), 400, /description/);
    xmlError(await post([['description', 'x'], ['updated_datetime', 'soon']]), 400, /updated_datetime/);
    xmlError(await call(s, 'POST', 'servicerequestupdates.xml', { body: form([['jurisdiction_id', J], ['api_key', key], ['service_request_id', 'ZZZZ-ZZZZ-Z'], ['description', 'x']]) }), 404);
    xmlError(await call(s, 'POST', 'servicerequestupdates.xml', { body: form([['jurisdiction_id', J], ['service_request_id', id], ['description', 'x']]) }), 400, /api_key/);
  });

  it('keeps the updates behind the api_key', async () => {
    xmlError(await call(s, 'GET', 'servicerequestupdates.xml', { query: { jurisdiction_id: J } }), 400, /api_key/);
    xmlError(await call(s, 'GET', 'servicerequestupdates.xml', { query: { jurisdiction_id: J, api_key: 'nope' } }), 403);
    jsonError(await call(s, 'GET', 'servicerequestupdates.json', { query: { jurisdiction_id: 'wessex-police', api_key: key } }), 403);
    const now = Date.now();
    jsonError(await call(s, 'GET', 'servicerequestupdates.json', {
      query: { jurisdiction_id: J, api_key: key, start_date: new Date(now - 100 * DAY).toISOString(), end_date: new Date(now).toISOString() },
    }), 400, /90 days/);
    // The demo's own cases of an Open311 service have updates too, oldest first.
    const all = await call(s, 'GET', 'servicerequestupdates.json', { query: { jurisdiction_id: J, api_key: key } });
    assert.ok(all.body.length > 0);
    const times = all.body.map((u) => Date.parse(u.updated_datetime));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  });
});
