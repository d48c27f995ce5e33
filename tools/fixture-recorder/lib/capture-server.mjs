// Capture server on 127.0.0.1 (random port): accepts OTLP/HTTP exports and keeps each
// DEcompressed raw body verbatim together with the request headers.
//   POST /v1/traces, /api/public/otel/v1/traces  (and /v1/logs, /v1/metrics for completeness)
//   POST /_control/begin {key}  /_control/end   (scenario boundaries, used by the recorder scripts)
import http from 'node:http';
import zlib from 'node:zlib';

const EMPTY_PB = Buffer.alloc(0); // an empty Export*ServiceResponse encodes to zero bytes

export function createCaptureServer(state) {
  const captures = [];

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');

    if (url.pathname.startsWith('/_control/')) {
      const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      if (url.pathname === '/_control/begin') {
        state.currentKey = body.key;
        (state.meta ??= {})[body.key] = body;
      }
      else if (url.pathname === '/_control/end') state.currentKey = null;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{}');
    }

    const signal = /\/v1\/traces$/.test(url.pathname) ? 'traces' : /\/v1\/logs$/.test(url.pathname) ? 'logs' : /\/v1\/metrics$/.test(url.pathname) ? 'metrics' : null;
    if (req.method !== 'POST' || !signal) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const enc = (req.headers['content-encoding'] ?? '').toLowerCase();
    let body = raw;
    try {
      if (enc === 'gzip') body = zlib.gunzipSync(raw);
      else if (enc === 'deflate') body = zlib.inflateSync(raw);
      else if (enc === 'br') body = zlib.brotliDecompressSync(raw);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      return res.end(`bad ${enc} body: ${e.message}`);
    }
    const headers = { ...req.headers };
    delete headers.host;
    captures.push({
      scenarioKey: state.currentKey ?? null,
      receivedAt: Date.now(),
      method: req.method,
      path: url.pathname,
      query: url.search || undefined,
      signal,
      headers,
      compressedBytes: raw.length,
      body,
    });
    const ct = (req.headers['content-type'] ?? '').toLowerCase();
    if (ct.includes('json')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(EMPTY_PB);
    }
  });

  return {
    captures,
    listen: () =>
      new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`))),
    close: () => new Promise((r) => server.close(r)),
  };
}
