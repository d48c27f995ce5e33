#!/usr/bin/env node
// Re-records every OTLP fixture:  npm run record            (all conventions)
//                                  npm run record -- --only openinference,langfuse
// Starts the fake OpenAI-compatible provider and the OTLP capture server on 127.0.0.1,
// runs libs/<convention>/record.mjs (one child process per library, REAL libraries),
// then writes packages/ingest/test/fixtures/otlp/<convention>/<scenario>.<json|pb>,
// manifest.json and README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFakeProvider, RESPONSE_MODEL, ANTHROPIC_REQUEST_MODEL, ANTHROPIC_RESPONSE_MODEL, ANTHROPIC_USAGE, EMBEDDING_MODEL_RESPONSE, STREAM_TTFT_MS, STREAM_CHUNK_INTERVAL_MS, NON_STREAM_DELAY_MS, CREATED } from './lib/fake-provider.mjs';
import { createCaptureServer } from './lib/capture-server.mjs';
import { decodeCapture, flattenSpans, flattenLogs } from './lib/otlp-decode.mjs';
import { writeReport } from './lib/report.mjs';

const ROOT = dirname(fileURLToPath(import.meta.url));
const REPO = join(ROOT, '..', '..');
const OUT = join(REPO, 'packages', 'ingest', 'test', 'fixtures', 'otlp');
const CHILD_TIMEOUT_MS = 180_000;

// Primary library under test + interesting transitive packages whose versions go in the manifest.
const LIBS = {
  'otel-genai': { primary: '@opentelemetry/instrumentation-openai', related: ['openai', '@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-logs-otlp-proto', '@opentelemetry/otlp-transformer'] },
  'otel-genai-legacy': { primary: '@elastic/opentelemetry-instrumentation-openai', related: ['openai', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-logs-otlp-proto', '@opentelemetry/otlp-transformer'] },
  openllmetry: { primary: '@traceloop/node-server-sdk', related: ['@traceloop/instrumentation-openai', '@traceloop/ai-semantic-conventions', 'openai', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/otlp-transformer'] },
  'openllmetry-legacy': { primary: '@traceloop/node-server-sdk', related: ['@traceloop/instrumentation-openai', '@traceloop/ai-semantic-conventions', 'openai', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/otlp-transformer'] },
  'openllmetry-anthropic': { primary: '@traceloop/node-server-sdk', related: ['@traceloop/instrumentation-anthropic', '@traceloop/ai-semantic-conventions', '@anthropic-ai/sdk', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/otlp-transformer'] },
  openinference: { primary: '@arizeai/openinference-instrumentation-openai', related: ['@arizeai/openinference-core', '@arizeai/openinference-semantic-conventions', 'openai', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto'] },
  'openinference-anthropic': { primary: '@arizeai/openinference-instrumentation-anthropic', related: ['@arizeai/openinference-core', '@arizeai/openinference-semantic-conventions', '@anthropic-ai/sdk', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto'] },
  'vercel-ai': { primary: 'ai', related: ['@ai-sdk/openai', '@ai-sdk/provider-utils', 'zod', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto'] },
  'vercel-ai-v7': { primary: 'ai', related: ['@ai-sdk/otel', '@ai-sdk/openai', '@ai-sdk/provider-utils', 'zod', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto'] },
  langfuse: { primary: '@langfuse/tracing', related: ['@langfuse/otel', '@langfuse/core', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/otlp-exporter-base'] },
  'otel-plain': { primary: '@opentelemetry/exporter-trace-otlp-proto', related: ['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/otlp-transformer', '@opentelemetry/otlp-exporter-base'] },
};

function findPkgVersion(libDir, name, depth = 0, base = join(libDir, 'node_modules')) {
  const direct = join(base, name, 'package.json');
  if (existsSync(direct)) return JSON.parse(readFileSync(direct, 'utf8')).version;
  if (depth >= 3 || !existsSync(base)) return null;
  for (const d of readdirSync(base)) {
    if (d.startsWith('.')) continue;
    const dirs = d.startsWith('@') ? readdirSync(join(base, d)).map((x) => join(d, x)) : [d];
    for (const x of dirs) {
      const nm = join(base, x, 'node_modules');
      if (existsSync(nm)) {
        const v = findPkgVersion(libDir, name, depth + 1, nm);
        if (v) return v;
      }
    }
  }
  return null;
}

function versionsFor(conv) {
  const libDir = join(ROOT, 'libs', conv);
  const spec = LIBS[conv] ?? { primary: null, related: [] };
  const pkg = JSON.parse(readFileSync(join(libDir, 'package.json'), 'utf8'));
  const names = [...new Set([spec.primary, ...Object.keys(pkg.devDependencies ?? {}), ...spec.related].filter(Boolean))];
  const versions = {};
  for (const n of names) versions[n] = findPkgVersion(libDir, n);
  return { primary: spec.primary, versions };
}

function summarizeProvider(exs) {
  return exs
    .map((p) => {
      const r = p.response ?? {};
      const prompt = p.promptMessages ? p.promptMessages.map((m) => `${m.role}: ${m.text ?? (m.toolCalls ? '[tool_calls]' : '')}`).join(' | ') : p.inputs ? p.inputs.join(' | ') : p.input ?? '';
      if (r.status !== 200) return `${p.path} <- "${prompt}" => HTTP ${r.status} ${r.error?.code ?? ''}`.trim();
      const u = r.usage ?? {};
      const tok =
        u.promptTokens != null
          ? `tokens in ${u.promptTokens} (cached ${u.cachedTokens ?? 0}) / out ${u.completionTokens ?? 0} (reasoning ${u.reasoningTokens ?? 0}) / total ${u.totalTokens}`
          : u.inputTokens != null
            ? `tokens in ${u.inputTokens} (cached ${u.cachedTokens}${u.cacheWriteTokens != null ? `, cache write ${u.cacheWriteTokens}` : ''}) / out ${u.outputTokens} (reasoning ${u.reasoningTokens}) / total ${u.totalTokens}${u.wire ? `; wire usage ${JSON.stringify(u.wire)}` : ''}`
            : '';
      const timing = r.timing?.ttftMs != null ? `stream TTFT ${r.timing.ttftMs} ms, ${r.timing.contentChunks} chunks every ${r.timing.chunkIntervalMs} ms, usage chunk ${r.timing.usageChunkSent ? 'sent' : 'NOT sent'}` : `latency ~${r.timing?.delayMs ?? '?'} ms`;
      const out = r.toolCalls ? `tool_call ${r.toolCalls.map((t) => `${t.name}(${t.arguments})`).join(',')}` : r.text != null ? `"${r.text}"` : r.dimensions ? `${r.count} x ${r.dimensions}-dim vector` : '';
      return `${p.path} model ${p.requestModel} -> ${r.model}; prompt "${prompt}"; ${out}; finish ${r.finishReason ?? '-'}; ${tok}; ${timing}`;
    })
    .join(' || ');
}

function authKind(h) {
  const a = h.authorization;
  if (!a) return null;
  if (/^basic /i.test(a)) return 'basic';
  if (/^bearer /i.test(a)) return 'bearer';
  return 'other';
}

function runChild(conv, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['record.mjs'], { cwd: join(ROOT, 'libs', conv), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      process.stdout.write(d.toString().replace(/^(?=.)/gm, `  [${conv}] `));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const t = setTimeout(() => {
      out += `\n[recorder] timeout after ${CHILD_TIMEOUT_MS} ms, killing child ${child.pid}`;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('exit', (code, sig) => {
      clearTimeout(t);
      resolve({ code, sig, out });
    });
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : [];
  const all = readdirSync(join(ROOT, 'libs')).filter((d) => existsSync(join(ROOT, 'libs', d, 'record.mjs'))).sort();
  const convs = only.length ? all.filter((c) => only.includes(c)) : all;

  const state = { currentKey: null, meta: {} };
  const provider = createFakeProvider(state);
  const capture = createCaptureServer(state);
  const providerUrl = await provider.listen();
  const collectorUrl = await capture.listen();
  console.log(`[recorder] fake provider ${providerUrl}, capture server ${collectorUrl}`);

  mkdirSync(OUT, { recursive: true });
  const manifestPath = join(OUT, 'manifest.json');
  const old = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { files: [], conventions: {} };
  const files = (old.files ?? []).filter((f) => !convs.includes(f.convention));
  const conventions = Object.fromEntries(Object.entries(old.conventions ?? {}).filter(([k]) => !convs.includes(k)));

  for (const conv of convs) {
    const libDir = join(ROOT, 'libs', conv);
    console.log(`\n[recorder] === ${conv} ===`);
    if (!existsSync(join(libDir, 'node_modules'))) {
      conventions[conv] = { status: 'failed', reason: `libs/${conv}/node_modules missing: run npm install in tools/fixture-recorder` };
      console.error(`[recorder] ${conventions[conv].reason}`);
      continue;
    }
    const capStart = capture.captures.length;
    const exStart = provider.exchanges.length;
    const res = await runChild(conv, { SPANLENS_PROVIDER_URL: providerUrl, SPANLENS_COLLECTOR_URL: collectorUrl, OTEL_SDK_DISABLED: '' });
    const caps = capture.captures.slice(capStart);
    const exs = provider.exchanges.slice(exStart);
    const { primary, versions } = versionsFor(conv);

    // wipe previous files of this convention
    const convDir = join(OUT, conv);
    rmSync(convDir, { recursive: true, force: true });
    mkdirSync(convDir, { recursive: true });

    const byScenario = new Map();
    for (const c of caps) {
      let key = c.scenarioKey ?? `${conv}/_unscoped`;
      if (!key.startsWith(`${conv}/`)) key = `${conv}/_unscoped`;
      if (!byScenario.has(key)) byScenario.set(key, []);
      byScenario.get(key).push(c);
    }
    let written = 0;
    for (const [key, list] of byScenario) {
      const scenario = key.slice(conv.length + 1);
      const meta = state.meta[key] ?? {};
      const scenarioExchanges = exs.filter((e) => e.scenarioKey === key).map(({ scenarioKey, ...rest }) => rest);
      const perSignal = {};
      for (const c of list) {
        const n = (perSignal[c.signal] = (perSignal[c.signal] ?? 0) + 1);
        const total = list.filter((x) => x.signal === c.signal).length;
        const ct = c.headers['content-type'] ?? '';
        const ext = ct.includes('json') ? 'json' : 'pb';
        const base = `${scenario}${c.signal === 'traces' ? '' : `.${c.signal}`}${total > 1 ? `-${n}` : ''}`;
        const file = `${conv}/${base}.${ext}`;
        writeFileSync(join(OUT, file), c.body);
        written++;
        let summary = {};
        try {
          const decoded = decodeCapture(c.signal, ct, c.body);
          if (c.signal === 'traces') {
            const spans = flattenSpans(decoded);
            summary = {
              spanCount: spans.length,
              traceIds: [...new Set(spans.map((s) => s.span.traceId))].length,
              spans: spans.map((s) => ({ name: s.span.name, kind: s.span.kind, scope: s.scope?.name, statusCode: s.span.status?.code ?? 0 })),
            };
          } else if (c.signal === 'logs') {
            const logs = flattenLogs(decoded);
            summary = { logRecordCount: logs.length, logEvents: logs.map((l) => l.log.eventName ?? l.log.attributes?.find((a) => a.key === 'event.name')?.value?.stringValue ?? null) };
          }
        } catch (e) {
          summary = { decodeError: String(e) };
        }
        const h = c.headers;
        files.push({
          file,
          convention: conv,
          scenario,
          description: meta.description ?? null,
          signal: c.signal,
          part: total > 1 ? `${n}/${total}` : undefined,
          library: { name: meta.library ?? primary, version: meta.library ? findPkgVersion(libDir, meta.library) : versions[primary] },
          request: {
            method: c.method,
            path: c.path,
            contentType: h['content-type'] ?? null,
            contentEncoding: h['content-encoding'] ?? null,
            auth: authKind(h),
            authorization: h.authorization ?? null,
            userAgent: h['user-agent'] ?? null,
            otherHeaders: Object.fromEntries(Object.entries(h).filter(([k]) => !['content-type', 'content-encoding', 'authorization', 'user-agent', 'content-length', 'connection', 'accept', 'accept-encoding', 'accept-language', 'sec-fetch-mode', 'transfer-encoding'].includes(k))),
            bytesOnWire: c.compressedBytes,
            bytesDecompressed: c.body.length,
          },
          expectError: !!meta.expectError,
          providerSummary: summarizeProvider(scenarioExchanges),
          ...summary,
          provider: scenarioExchanges,
        });
      }
    }
    const scenariosWithoutPayload = Object.keys(state.meta)
      .filter((k) => k.startsWith(`${conv}/`) && !byScenario.has(k))
      .map((k) => ({
        scenario: k.slice(conv.length + 1),
        description: state.meta[k].description,
        provider: exs.filter((e) => e.scenarioKey === k).map(({ scenarioKey, ...rest }) => rest),
        note: 'the library exported NO span for this scenario (nothing reached the capture server)',
      }));
    const failedRun = res.code !== 0;
    conventions[conv] = {
      status: failedRun ? (written ? 'partial' : 'failed') : 'ok',
      exitCode: res.code,
      signal: res.sig ?? undefined,
      library: { name: primary, version: versions[primary] },
      packages: versions,
      filesWritten: written,
      scenariosWithoutPayload,
      ...(failedRun ? { log: res.out.split('\n').slice(-30).join('\n') } : {}),
    };
    console.log(`[recorder] ${conv}: ${written} files, child exit ${res.code}`);
  }

  files.sort((a, b) => a.file.localeCompare(b.file));
  const manifest = {
    description:
      'Real OTLP export payloads captured from real npm instrumentation libraries talking to a fake OpenAI-compatible provider. Bodies are stored DEcompressed, verbatim (request.contentEncoding says what was on the wire). Re-record with `cd tools/fixture-recorder && npm install && npm run record`.',
    recordedWith: { node: process.version, command: 'cd tools/fixture-recorder && npm install && npm run record' },
    fakeProvider: {
      wireFormat: 'OpenAI (chat.completions, chat.completions stream SSE, embeddings, responses); Anthropic Messages (POST /v1/messages, plain and SSE)',
      anthropicModel: `${ANTHROPIC_REQUEST_MODEL} -> ${ANTHROPIC_RESPONSE_MODEL}`,
      responseModel: RESPONSE_MODEL,
      embeddingResponseModel: EMBEDDING_MODEL_RESPONSE,
      created: CREATED,
      nonStreamDelayMs: NON_STREAM_DELAY_MS,
      streamTtftMs: STREAM_TTFT_MS,
      streamChunkIntervalMs: STREAM_CHUNK_INTERVAL_MS,
      usageByKind: {
        chat: 'prompt 23 (cached 8), completion 9 (reasoning 3), total 32, finish stop',
        stream: 'prompt 19, completion 12, total 19+12=31, finish stop; usage only in the final chunk and only if stream_options.include_usage',
        tool_call: 'prompt 61, completion 17, total 78, finish tool_calls',
        tool_result: 'prompt 84 (cached 32), completion 12, total 96, finish stop (answer after a tool result)',
        object: 'prompt 48, completion 14, total 62, finish stop (JSON content generated from response_format schema)',
        embeddings: '6 prompt tokens per input, 8 dims',
        responses: 'input 23 (cached 8), output 9 (reasoning 3), total 32, status completed',
        error: 'HTTP 429 {error:{type:"requests",code:"rate_limit_exceeded"}} with retry-after: 1 (triggered by a prompt containing "should fail")',
        anthropic: Object.fromEntries(
          Object.entries(ANTHROPIC_USAGE).map(([k, u]) => [k, `wire input_tokens ${u.input_tokens} + cache_read ${u.cache_read_input_tokens} + cache_creation ${u.cache_creation_input_tokens} (OTel input ${u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens}), output ${u.output_tokens}`]),
        ),
        anthropicError: 'HTTP 429 {type:"error",error:{type:"rate_limit_error"}} with retry-after: 1',
      },
    },
    conventions,
    files,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  await writeReport(OUT, manifest);
  await provider.close();
  await capture.close();
  const bad = Object.entries(conventions).filter(([, v]) => v.status !== 'ok');
  console.log(`\n[recorder] wrote ${files.length} manifest entries to ${relative(REPO, OUT)}; not ok: ${bad.map(([k, v]) => `${k}(${v.status})`).join(', ') || 'none'}`);
  void statSync;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
