// Minimal OTLP decoder used ONLY by the recorder to summarise captures (manifest/README).
// Protobuf ExportTraceServiceRequest / ExportLogsServiceRequest -> OTLP/JSON-shaped objects
// (hex ids, int64 as decimal strings, lowerCamelCase keys, integer enums).
// JSON payloads are parsed as-is. Not meant as the ingest server's decoder.

function reader(buf) {
  let pos = 0;
  const r = {
    get pos() {
      return pos;
    },
    eof: () => pos >= buf.length,
    varint() {
      let result = 0n;
      let shift = 0n;
      for (;;) {
        const b = buf[pos++];
        result |= BigInt(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7n;
      }
      return result;
    },
    fixed64() {
      const v = buf.readBigUInt64LE(pos);
      pos += 8;
      return v;
    },
    double() {
      const v = buf.readDoubleLE(pos);
      pos += 8;
      return v;
    },
    fixed32() {
      const v = buf.readUInt32LE(pos);
      pos += 4;
      return v;
    },
    bytes() {
      const len = Number(r.varint());
      const b = buf.subarray(pos, pos + len);
      pos += len;
      return b;
    },
    skip(wt) {
      if (wt === 0) r.varint();
      else if (wt === 1) pos += 8;
      else if (wt === 2) r.bytes();
      else if (wt === 5) pos += 4;
      else throw new Error(`unsupported wire type ${wt}`);
    },
  };
  return r;
}

function fields(buf, handlers, init = {}) {
  const r = reader(buf);
  const out = init;
  while (!r.eof()) {
    const tag = Number(r.varint());
    const fn = tag >> 3;
    const wt = tag & 7;
    const h = handlers[fn];
    if (!h) {
      r.skip(wt);
      continue;
    }
    h(r, out, wt);
  }
  return out;
}

const str = (r) => r.bytes().toString('utf8');
const hex = (r) => Buffer.from(r.bytes()).toString('hex');
const push = (o, k, v) => (o[k] ??= []).push(v);
const int64 = (v) => BigInt.asIntN(64, v).toString();

function anyValue(buf) {
  return fields(buf, {
    1: (r, o) => (o.stringValue = str(r)),
    2: (r, o) => (o.boolValue = r.varint() !== 0n),
    3: (r, o) => (o.intValue = int64(r.varint())),
    4: (r, o) => (o.doubleValue = r.double()),
    5: (r, o) => (o.arrayValue = fields(r.bytes(), { 1: (rr, oo) => push(oo, 'values', anyValue(rr.bytes())) }, { values: [] })),
    6: (r, o) => (o.kvlistValue = fields(r.bytes(), { 1: (rr, oo) => push(oo, 'values', keyValue(rr.bytes())) }, { values: [] })),
    7: (r, o) => (o.bytesValue = Buffer.from(r.bytes()).toString('base64')),
  });
}
function keyValue(buf) {
  return fields(buf, { 1: (r, o) => (o.key = str(r)), 2: (r, o) => (o.value = anyValue(r.bytes())) });
}
const attrs = (r, o) => push(o, 'attributes', keyValue(r.bytes()));

function resource(buf) {
  return fields(buf, { 1: attrs, 2: (r, o) => (o.droppedAttributesCount = Number(r.varint())) }, { attributes: [] });
}
function scope(buf) {
  return fields(buf, { 1: (r, o) => (o.name = str(r)), 2: (r, o) => (o.version = str(r)), 3: attrs });
}
function span(buf) {
  return fields(
    buf,
    {
      1: (r, o) => (o.traceId = hex(r)),
      2: (r, o) => (o.spanId = hex(r)),
      3: (r, o) => (o.traceState = str(r)),
      4: (r, o) => (o.parentSpanId = hex(r)),
      16: (r, o) => (o.flags = r.fixed32()),
      5: (r, o) => (o.name = str(r)),
      6: (r, o) => (o.kind = Number(r.varint())),
      7: (r, o) => (o.startTimeUnixNano = r.fixed64().toString()),
      8: (r, o) => (o.endTimeUnixNano = r.fixed64().toString()),
      9: attrs,
      10: (r, o) => (o.droppedAttributesCount = Number(r.varint())),
      11: (r, o) =>
        push(
          o,
          'events',
          fields(r.bytes(), { 1: (rr, oo) => (oo.timeUnixNano = rr.fixed64().toString()), 2: (rr, oo) => (oo.name = str(rr)), 3: attrs }, { attributes: [] }),
        ),
      12: (r, o) => (o.droppedEventsCount = Number(r.varint())),
      13: (r, o) =>
        push(o, 'links', fields(r.bytes(), { 1: (rr, oo) => (oo.traceId = hex(rr)), 2: (rr, oo) => (oo.spanId = hex(rr)), 3: (rr, oo) => (oo.traceState = str(rr)), 4: attrs }, { attributes: [] })),
      14: (r, o) => (o.droppedLinksCount = Number(r.varint())),
      15: (r, o) => (o.status = fields(r.bytes(), { 2: (rr, oo) => (oo.message = str(rr)), 3: (rr, oo) => (oo.code = Number(rr.varint())) })),
    },
    { attributes: [], events: [], links: [] },
  );
}
function logRecord(buf) {
  return fields(
    buf,
    {
      1: (r, o) => (o.timeUnixNano = r.fixed64().toString()),
      11: (r, o) => (o.observedTimeUnixNano = r.fixed64().toString()),
      2: (r, o) => (o.severityNumber = Number(r.varint())),
      3: (r, o) => (o.severityText = str(r)),
      5: (r, o) => (o.body = anyValue(r.bytes())),
      6: attrs,
      8: (r, o) => (o.flags = r.fixed32()),
      9: (r, o) => (o.traceId = hex(r)),
      10: (r, o) => (o.spanId = hex(r)),
      12: (r, o) => (o.eventName = str(r)),
    },
    { attributes: [] },
  );
}

export function decodeTracesPb(buf) {
  return fields(
    buf,
    {
      1: (r, o) =>
        push(
          o,
          'resourceSpans',
          fields(r.bytes(), {
            1: (rr, oo) => (oo.resource = resource(rr.bytes())),
            2: (rr, oo) =>
              push(oo, 'scopeSpans', fields(rr.bytes(), { 1: (x, y) => (y.scope = scope(x.bytes())), 2: (x, y) => push(y, 'spans', span(x.bytes())), 3: (x, y) => (y.schemaUrl = str(x)) }, { spans: [] })),
            3: (rr, oo) => (oo.schemaUrl = str(rr)),
          }, { scopeSpans: [] }),
        ),
    },
    { resourceSpans: [] },
  );
}
export function decodeLogsPb(buf) {
  return fields(
    buf,
    {
      1: (r, o) =>
        push(
          o,
          'resourceLogs',
          fields(r.bytes(), {
            1: (rr, oo) => (oo.resource = resource(rr.bytes())),
            2: (rr, oo) =>
              push(oo, 'scopeLogs', fields(rr.bytes(), { 1: (x, y) => (y.scope = scope(x.bytes())), 2: (x, y) => push(y, 'logRecords', logRecord(x.bytes())), 3: (x, y) => (y.schemaUrl = str(x)) }, { logRecords: [] })),
            3: (rr, oo) => (oo.schemaUrl = str(rr)),
          }, { scopeLogs: [] }),
        ),
    },
    { resourceLogs: [] },
  );
}

export function decodeCapture(signal, contentType, body) {
  const isJson = (contentType ?? '').includes('json');
  if (isJson) return JSON.parse(body.toString('utf8'));
  if (signal === 'logs') return decodeLogsPb(body);
  return decodeTracesPb(body);
}

/** AnyValue (OTLP JSON shape) -> plain JS value */
export function plain(v) {
  if (v == null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return typeof v.intValue === 'string' ? Number(v.intValue) : v.intValue;
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(plain);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  if ('bytesValue' in v) return `<bytes ${v.bytesValue}>`;
  return null;
}
export function valueType(v) {
  if (v == null) return 'empty';
  if ('stringValue' in v) return 'string';
  if ('boolValue' in v) return 'bool';
  if ('intValue' in v) return 'int';
  if ('doubleValue' in v) return 'double';
  if ('arrayValue' in v) {
    const inner = [...new Set((v.arrayValue.values ?? []).map(valueType))];
    return `array<${inner.join('|') || '?'}>`;
  }
  if ('kvlistValue' in v) return 'kvlist';
  if ('bytesValue' in v) return 'bytes';
  return 'empty';
}
export const attrMap = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));

/** Flatten a decoded trace request into [{resource, scope, span}] */
export function flattenSpans(req) {
  const out = [];
  for (const rs of req.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? []) for (const sp of ss.spans ?? []) out.push({ resource: rs.resource, scope: ss.scope, span: sp });
  return out;
}
export function flattenLogs(req) {
  const out = [];
  for (const rl of req.resourceLogs ?? [])
    for (const sl of rl.scopeLogs ?? []) for (const lr of sl.logRecords ?? []) out.push({ resource: rl.resource, scope: sl.scope, log: lr });
  return out;
}
