// Generates packages/ingest/test/fixtures/otlp/README.md from manifest.json + the fixture bodies.
// Hand-written parts live in lib/README.head.md and lib/README.facts.md (copied verbatim).
//   node lib/report.mjs     (also run at the end of `npm run record`)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCapture, flattenSpans, flattenLogs, attrMap, valueType, plain } from './otlp-decode.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const KIND = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const ORDER = ['otel-genai', 'otel-genai-legacy', 'openllmetry', 'openllmetry-legacy', 'openllmetry-anthropic', 'openinference', 'openinference-anthropic', 'vercel-ai', 'vercel-ai-v7', 'langfuse', 'otel-plain'];

const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, '\\n');
const short = (v, n = 70) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > n ? `${s.slice(0, n)}…` : s;
};
// collapse indexed keys: gen_ai.prompt.0.role -> gen_ai.prompt.{i}.role
const pattern = (k) => k.replace(/\.(\d+)(?=\.|$)/g, '.{i}');

function collect(out, manifest, conv) {
  const spanNames = new Map(); // name -> {kinds:Set, scopes:Set, files:Set, events:Set}
  const keys = new Map(); // pattern -> {types:Set, spans:Set, example}
  const resKeys = new Map();
  const scopes = new Set();
  const logEvents = new Map(); // event -> {attrs:Set, bodyKeys:Set}
  for (const f of manifest.files.filter((x) => x.convention === conv)) {
    const body = readFileSync(join(out, f.file));
    const dec = decodeCapture(f.signal, f.request.contentType, body);
    if (f.signal === 'logs') {
      for (const { scope, log } of flattenLogs(dec)) {
        scopes.add(`${scope?.name}${scope?.version ? `@${scope.version}` : ''} (logs)`);
        const a = attrMap(log.attributes);
        const name = log.eventName || a['event.name'] || '(no event name)';
        if (!logEvents.has(name)) logEvents.set(name, { attrs: new Set(), bodyKeys: new Set(), viaEventName: !!log.eventName });
        const e = logEvents.get(name);
        Object.keys(a).forEach((k) => e.attrs.add(k));
        const b = plain(log.body);
        if (b && typeof b === 'object') Object.keys(b).forEach((k) => e.bodyKeys.add(k));
      }
      continue;
    }
    for (const { resource, scope, span } of flattenSpans(dec)) {
      const sc = `${scope?.name}${scope?.version ? `@${scope.version}` : ''}`;
      scopes.add(sc);
      const nm = span.name;
      if (!spanNames.has(nm)) spanNames.set(nm, { kinds: new Set(), scopes: new Set(), files: new Set(), events: new Set() });
      const s = spanNames.get(nm);
      s.kinds.add(KIND[span.kind] ?? span.kind);
      s.scopes.add(sc);
      s.files.add(f.scenario);
      for (const e of span.events ?? []) s.events.add(`${e.name}(${(e.attributes ?? []).map((a) => a.key).join(', ')})`);
      for (const kv of span.attributes ?? []) {
        const p = pattern(kv.key);
        if (!keys.has(p)) keys.set(p, { types: new Set(), spans: new Set(), example: plain(kv.value) });
        const k = keys.get(p);
        k.types.add(valueType(kv.value));
        k.spans.add(nm.length > 40 ? `${nm.slice(0, 40)}…` : nm);
      }
      for (const kv of resource?.attributes ?? []) if (!resKeys.has(kv.key)) resKeys.set(kv.key, plain(kv.value));
    }
  }
  return { spanNames, keys, resKeys, scopes, logEvents };
}

export async function writeReport(out, manifest) {
  const lines = [];
  const head = join(HERE, 'README.head.md');
  if (existsSync(head)) lines.push(readFileSync(head, 'utf8').trimEnd(), '');

  lines.push('## Versions and status per convention', '');
  lines.push('| convention | status | library under test | other packages (installed versions) | files |', '|---|---|---|---|---|');
  const convs = ORDER.filter((c) => manifest.conventions[c]).concat(Object.keys(manifest.conventions).filter((c) => !ORDER.includes(c)));
  for (const c of convs) {
    const v = manifest.conventions[c];
    const others = Object.entries(v.packages ?? {})
      .filter(([n]) => n !== v.library?.name)
      .map(([n, ver]) => `${n}@${ver ?? '?'}`)
      .join(', ');
    lines.push(`| ${c} | ${v.status} | ${v.library?.name}@${v.library?.version} | ${esc(others)} | ${v.filesWritten ?? 0} |`);
  }
  lines.push('');
  const missing = convs.flatMap((c) => (manifest.conventions[c].scenariosWithoutPayload ?? []).map((s) => ({ c, ...s })));
  if (missing.length) {
    lines.push('### Scenarios that produced NO export (library behaviour, not a recorder failure)', '');
    lines.push('| convention | scenario | what was done | provider saw |', '|---|---|---|---|');
    for (const m of missing) lines.push(`| ${m.c} | ${m.scenario} | ${esc(m.description ?? '')} | ${esc(m.provider.map((p) => `${p.path} → ${p.response?.status}`).join('; '))} |`);
    lines.push('');
  }

  const facts = join(HERE, 'README.facts.md');
  if (existsSync(facts)) lines.push(readFileSync(facts, 'utf8').trimEnd(), '');

  lines.push('## Files', '');
  lines.push('| file | scenario | content-type / encoding as sent | auth | spans | provider returned |', '|---|---|---|---|---|---|');
  for (const f of manifest.files) {
    const prov = (f.provider ?? [])
      .map((p) => {
        const r = p.response ?? {};
        if (r.status !== 200) return `${p.path} HTTP ${r.status}`;
        const u = r.usage ?? {};
        const tok = u.promptTokens != null ? `${u.promptTokens}/${u.completionTokens ?? '-'}` : u.inputTokens != null ? `${u.inputTokens}/${u.outputTokens}` : '';
        return `${p.path.replace('/v1/', '')}${p.stream ? ' (stream)' : ''} ${r.model ?? ''} ${tok} ${r.finishReason ?? ''}`.trim();
      })
      .join('; ');
    const sig = f.signal === 'logs' ? `${f.logRecordCount} log records` : `${f.spanCount}`;
    lines.push(`| ${f.file} | ${f.scenario} | ${f.request.contentType}${f.request.contentEncoding ? ` + ${f.request.contentEncoding}` : ''} | ${f.request.auth ?? '-'} | ${sig} | ${esc(prov)} |`);
  }
  lines.push('');

  lines.push('## Observed keys per convention (generated from the fixtures)', '');
  lines.push('Indexed keys are collapsed to `{i}`. "type" is the OTLP AnyValue type actually sent. Examples are truncated.', '');
  for (const c of convs) {
    if (!manifest.files.some((f) => f.convention === c)) continue;
    const { spanNames, keys, resKeys, scopes, logEvents } = collect(out, manifest, c);
    lines.push(`### ${c}`, '');
    lines.push(`Scopes: ${[...scopes].map((s) => `\`${s}\``).join(', ')}`, '');
    lines.push(`Resource attributes: ${[...resKeys.entries()].map(([k, v]) => `\`${k}\`=${esc(short(v, 40))}`).join(', ')}`, '');
    lines.push('| span name | kind | scope | scenarios | events |', '|---|---|---|---|---|');
    for (const [n, s] of spanNames) lines.push(`| \`${esc(n)}\` | ${[...s.kinds].join(',')} | ${[...s.scopes].join(', ')} | ${[...s.files].join(', ')} | ${esc([...s.events].join('; ') || '-')} |`);
    lines.push('');
    lines.push('| attribute key | type | on spans | example |', '|---|---|---|---|');
    for (const [k, v] of [...keys.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      const sp = [...v.spans];
      lines.push(`| \`${k}\` | ${[...v.types].join(', ')} | ${esc(sp.slice(0, 4).join(', '))}${sp.length > 4 ? ` +${sp.length - 4}` : ''} | \`${esc(short(v.example))}\` |`);
    }
    lines.push('');
    if (logEvents.size) {
      lines.push('Log records (OTLP logs signal, `<scenario>.logs.pb`):', '');
      lines.push('| event | name carried in | attributes | body keys |', '|---|---|---|---|');
      for (const [n, e] of logEvents) lines.push(`| \`${n}\` | ${e.viaEventName ? 'LogRecord.event_name' : 'attribute event.name'} | ${[...e.attrs].join(', ')} | ${[...e.bodyKeys].join(', ') || '-'} |`);
      lines.push('');
    }
  }
  writeFileSync(join(out, 'README.md'), lines.join('\n') + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const OUT = join(HERE, '..', '..', '..', 'packages', 'ingest', 'test', 'fixtures', 'otlp');
  const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
  await writeReport(OUT, manifest);
  console.log('README written');
}
