// Debug helper: node lib/dump.mjs <fixture file> [...]  -> human-readable spans/log records
import { readFileSync } from 'node:fs';
import { decodeCapture, flattenSpans, flattenLogs, attrMap } from './otlp-decode.mjs';
const KIND = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
for (const f of process.argv.slice(2)) {
  const body = readFileSync(f);
  const signal = /\.logs(-\d+)?\.(pb|json)$/.test(f) ? 'logs' : 'traces';
  const dec = decodeCapture(signal, f.endsWith('.json') ? 'application/json' : 'application/x-protobuf', body);
  console.log(`##### ${f}`);
  if (signal === 'logs') {
    for (const { scope, log } of flattenLogs(dec)) console.log(JSON.stringify({ scope: scope?.name, eventName: log.eventName, attrs: attrMap(log.attributes), body: log.body, span: log.spanId }));
    continue;
  }
  for (const { resource, scope, span } of flattenSpans(dec)) {
    const dur = (BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1000000n;
    console.log(`--- ${span.name} [${KIND[span.kind] ?? span.kind}] scope=${scope?.name}@${scope?.version} status=${JSON.stringify(span.status ?? {})} dur=${dur}ms span=${span.spanId} parent=${span.parentSpanId || '-'}`);
    for (const [k, v] of Object.entries(attrMap(span.attributes))) console.log(`    ${k} = ${JSON.stringify(v).slice(0, 300)}`);
    for (const e of span.events ?? []) console.log(`    EVENT ${e.name} ${JSON.stringify(attrMap(e.attributes)).slice(0, 300)}`);
  }
  if (process.env.RES) for (const rs of dec.resourceSpans ?? []) console.log('RESOURCE', JSON.stringify(attrMap(rs.resource?.attributes)));
}
