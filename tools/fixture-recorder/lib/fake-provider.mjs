// Fake LLM provider speaking the OpenAI wire format (and Anthropic's Messages API) on
// 127.0.0.1 (random port).
// Deterministic: responses depend only on the request body, never on time or randomness
// (except ids that carry a per-process counter). Every exchange is recorded so the
// manifest can say exactly what the "provider" returned (model, tokens, finish reason, timing).
import http from 'node:http';

export const RESPONSE_MODEL = 'gpt-4o-mini-2024-07-18';
// Anthropic answers a model alias with the dated snapshot it resolved to, as the real API does.
export const ANTHROPIC_REQUEST_MODEL = 'claude-haiku-4-5';
export const ANTHROPIC_RESPONSE_MODEL = 'claude-haiku-4-5-20251001';
export const EMBEDDING_MODEL_RESPONSE = 'text-embedding-3-small';
export const CREATED = 1767225600; // 2026-01-01T00:00:00Z, fixed
export const NON_STREAM_DELAY_MS = 80;
export const STREAM_TTFT_MS = 150; // delay before the first SSE chunk
export const STREAM_CHUNK_INTERVAL_MS = 25; // delay between subsequent SSE chunks

// Usage blocks: cached + reasoning tokens are non-zero on plain chat so normalizers can test them.
const USAGE = {
  chat: { prompt_tokens: 23, completion_tokens: 9, cached_tokens: 8, reasoning_tokens: 3 },
  stream: { prompt_tokens: 19, completion_tokens: 12, cached_tokens: 0, reasoning_tokens: 0 },
  tool_call: { prompt_tokens: 61, completion_tokens: 17, cached_tokens: 0, reasoning_tokens: 0 },
  tool_result: { prompt_tokens: 84, completion_tokens: 12, cached_tokens: 32, reasoning_tokens: 0 },
  object: { prompt_tokens: 48, completion_tokens: 14, cached_tokens: 0, reasoning_tokens: 0 },
};

// Anthropic usage: input_tokens EXCLUDES cache reads and writes (the API's own semantics; OTel's
// gen_ai.usage.input_tokens includes them). Plain chat has both kinds of cache tokens.
export const ANTHROPIC_USAGE = {
  chat: { input_tokens: 14, cache_read_input_tokens: 1200, cache_creation_input_tokens: 300, output_tokens: 9 },
  stream: { input_tokens: 19, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 12 },
  tool_call: { input_tokens: 61, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 17 },
  tool_result: { input_tokens: 84, cache_read_input_tokens: 32, cache_creation_input_tokens: 0, output_tokens: 12 },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function usageBlock(u) {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_tokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning_tokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function textOf(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : p.text ?? '')).join('');
  return '';
}

// Produce a value matching a (small) JSON schema, for response_format json_schema / tool args.
function sampleFromSchema(schema, key = '') {
  if (!schema || typeof schema !== 'object') return null;
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (schema.anyOf) return sampleFromSchema(schema.anyOf[0], key);
  switch (t) {
    case 'object': {
      const o = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) o[k] = sampleFromSchema(v, k);
      return o;
    }
    case 'array':
      return [sampleFromSchema(schema.items, key)];
    case 'number':
      return 4.5;
    case 'integer':
      return 42;
    case 'boolean':
      return true;
    case 'string':
    default:
      if (/city|location/i.test(key)) return 'Paris';
      if (/name/i.test(key)) return 'Ada Lovelace';
      if (/unit/i.test(key)) return 'celsius';
      return 'example';
  }
}

function classifyChat(body) {
  const msgs = body.messages ?? [];
  const last = msgs[msgs.length - 1] ?? {};
  const userText = msgs.filter((m) => m.role === 'user').map((m) => textOf(m.content)).join('\n');
  const allText = msgs.map((m) => textOf(m.content)).join('\n');
  if (/should fail/i.test(allText)) return { kind: 'error' };
  if (last.role === 'tool') return { kind: 'tool_result', userText };
  if (Array.isArray(body.tools) && body.tools.length > 0 && body.tool_choice !== 'none') return { kind: 'tool_call', userText };
  const rf = body.response_format;
  if (rf && (rf.type === 'json_schema' || rf.type === 'json_object')) return { kind: 'object', userText };
  return { kind: body.stream ? 'stream' : 'chat', userText };
}

function answerText(kind, userText, body) {
  if (kind === 'tool_result') return 'It is sunny and 22°C in Paris.';
  if (kind === 'object') {
    const schema = body.response_format?.json_schema?.schema;
    return JSON.stringify(schema ? sampleFromSchema(schema) : { name: 'Ada Lovelace', age: 36 });
  }
  if (/@example\.com/.test(userText)) return 'Sure, I will send the summary to jane.doe@example.com today.';
  if (kind === 'stream') return 'One, two, three, four, five.';
  return 'Hello! The capital of France is Paris.';
}

export function createFakeProvider(state) {
  let counter = 0;
  const exchanges = [];

  function record(ex) {
    ex.scenarioKey = state.currentKey ?? null;
    exchanges.push(ex);
  }

  async function readJson(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    try {
      return raw ? JSON.parse(raw) : {};
    } catch {
      return { __raw: raw };
    }
  }

  function sendJson(res, status, obj, extraHeaders = {}) {
    const s = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-request-id': `req_fixture_${counter}`,
      'openai-processing-ms': String(NON_STREAM_DELAY_MS),
      ...extraHeaders,
    });
    res.end(s);
  }

  async function chat(req, res, body) {
    const n = ++counter;
    const c = classifyChat(body);
    const ex = {
      path: '/v1/chat/completions',
      requestModel: body.model,
      stream: !!body.stream,
      includeUsage: !!body.stream_options?.include_usage,
      promptMessages: (body.messages ?? []).map((m) => ({ role: m.role, text: textOf(m.content) || undefined, toolCalls: m.tool_calls?.length || undefined })),
      toolsOffered: (body.tools ?? []).map((t) => t.function?.name),
      responseFormat: body.response_format?.type,
      kind: c.kind,
    };
    if (c.kind === 'error') {
      await sleep(NON_STREAM_DELAY_MS);
      const err = {
        error: {
          message: 'Rate limit reached for gpt-4o-mini (fake provider): please retry after 1s.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      };
      ex.response = { status: 429, error: err.error, retryAfter: '1' };
      record(ex);
      return sendJson(res, 429, err, { 'retry-after': '1' });
    }
    const u = USAGE[c.kind];
    const usage = usageBlock(u);
    const id = `chatcmpl-fixture-${n}`;
    let message;
    let finish;
    if (c.kind === 'tool_call') {
      const tool = body.tools[0].function;
      const args = JSON.stringify(sampleFromSchema(tool.parameters ?? { type: 'object', properties: { city: { type: 'string' } } }));
      message = { role: 'assistant', content: null, tool_calls: [{ id: `call_fixture_${n}`, type: 'function', function: { name: tool.name, arguments: args } }], refusal: null };
      finish = 'tool_calls';
    } else {
      message = { role: 'assistant', content: answerText(c.kind, c.userText, body), refusal: null };
      finish = 'stop';
    }
    ex.response = {
      status: 200,
      id,
      model: RESPONSE_MODEL,
      finishReason: finish,
      text: message.content ?? undefined,
      toolCalls: message.tool_calls?.map((t) => ({ id: t.id, name: t.function.name, arguments: t.function.arguments })),
      usage: { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.prompt_tokens + u.completion_tokens, cachedTokens: u.cached_tokens, reasoningTokens: u.reasoning_tokens },
    };

    if (!body.stream) {
      await sleep(NON_STREAM_DELAY_MS);
      ex.response.timing = { delayMs: NON_STREAM_DELAY_MS };
      record(ex);
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created: CREATED,
        model: RESPONSE_MODEL,
        system_fingerprint: 'fp_fixture',
        service_tier: 'default',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage,
      });
    }

    // Streaming (SSE)
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': `req_fixture_${n}` });
    const base = { id, object: 'chat.completion.chunk', created: CREATED, model: RESPONSE_MODEL, system_fingerprint: 'fp_fixture', service_tier: 'default' };
    const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunks = [];
    if (message.tool_calls) {
      const tc = message.tool_calls[0];
      chunks.push({ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }], refusal: null }, logprobs: null, finish_reason: null });
      const a = tc.function.arguments;
      const mid = Math.floor(a.length / 2);
      for (const piece of [a.slice(0, mid), a.slice(mid)]) chunks.push({ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, logprobs: null, finish_reason: null });
    } else {
      chunks.push({ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null });
      for (const w of message.content.match(/\S+\s*/g)) chunks.push({ index: 0, delta: { content: w }, logprobs: null, finish_reason: null });
    }
    chunks.push({ index: 0, delta: {}, logprobs: null, finish_reason: finish });
    await sleep(STREAM_TTFT_MS);
    let first = true;
    for (const ch of chunks) {
      if (!first) await sleep(STREAM_CHUNK_INTERVAL_MS);
      first = false;
      send({ ...base, choices: [ch], ...(ex.includeUsage ? { usage: null } : {}) });
    }
    if (ex.includeUsage) {
      await sleep(STREAM_CHUNK_INTERVAL_MS);
      send({ ...base, choices: [], usage });
    }
    res.write('data: [DONE]\n\n');
    res.end();
    ex.response.timing = {
      ttftMs: STREAM_TTFT_MS,
      chunkIntervalMs: STREAM_CHUNK_INTERVAL_MS,
      contentChunks: chunks.length,
      usageChunkSent: ex.includeUsage,
      approxTotalMs: STREAM_TTFT_MS + STREAM_CHUNK_INTERVAL_MS * (chunks.length - 1 + (ex.includeUsage ? 1 : 0)),
    };
    if (!ex.includeUsage) ex.response.usageNote = 'client did not request stream_options.include_usage: no usage chunk was sent';
    record(ex);
  }

  async function embeddings(req, res, body) {
    const n = ++counter;
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = 8;
    const data = inputs.map((_, i) => {
      const vec = Array.from({ length: dims }, (_, j) => Math.round(Math.sin(i + j + 1) * 1e4) / 1e4);
      let embedding = vec;
      if (body.encoding_format === 'base64') embedding = Buffer.from(new Float32Array(vec).buffer).toString('base64');
      return { object: 'embedding', index: i, embedding };
    });
    const promptTokens = 6 * inputs.length;
    const ex = {
      path: '/v1/embeddings',
      requestModel: body.model,
      inputs,
      encodingFormat: body.encoding_format ?? null,
      kind: 'embeddings',
      response: { status: 200, model: EMBEDDING_MODEL_RESPONSE, dimensions: dims, count: inputs.length, usage: { promptTokens, totalTokens: promptTokens }, timing: { delayMs: NON_STREAM_DELAY_MS } },
    };
    await sleep(NON_STREAM_DELAY_MS);
    record(ex);
    void n;
    sendJson(res, 200, { object: 'list', data, model: EMBEDDING_MODEL_RESPONSE, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
  }

  // OpenAI Responses API, non-streaming only (used by @opentelemetry/instrumentation-openai's
  // Responses support, which follows newer semconv than its chat-completions support).
  async function responses(req, res, body) {
    const n = ++counter;
    const input = typeof body.input === 'string' ? body.input : (body.input ?? []).map((m) => textOf(m.content)).join('\n');
    const u = USAGE.chat;
    const text = answerText('chat', input, body);
    const ex = {
      path: '/v1/responses',
      requestModel: body.model,
      instructions: body.instructions,
      input,
      kind: 'responses',
      response: {
        status: 200,
        id: `resp_fixture_${n}`,
        model: RESPONSE_MODEL,
        finishReason: 'completed (status)',
        text,
        usage: { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.prompt_tokens + u.completion_tokens, cachedTokens: u.cached_tokens, reasoningTokens: u.reasoning_tokens },
        timing: { delayMs: NON_STREAM_DELAY_MS },
      },
    };
    await sleep(NON_STREAM_DELAY_MS);
    record(ex);
    sendJson(res, 200, {
      id: `resp_fixture_${n}`,
      object: 'response',
      created_at: CREATED,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: RESPONSE_MODEL,
      output: [
        { type: 'message', id: `msg_fixture_${n}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] },
      ],
      parallel_tool_calls: true,
      temperature: body.temperature ?? 1,
      top_p: body.top_p ?? 1,
      tool_choice: 'auto',
      tools: [],
      usage: {
        input_tokens: u.prompt_tokens,
        input_tokens_details: { cached_tokens: u.cached_tokens },
        output_tokens: u.completion_tokens,
        output_tokens_details: { reasoning_tokens: u.reasoning_tokens },
        total_tokens: u.prompt_tokens + u.completion_tokens,
      },
      metadata: {},
    });
  }

  // Anthropic Messages API (POST /v1/messages): plain JSON and SSE with the API's event sequence
  // (message_start, content_block_start, ping, content_block_delta..., content_block_stop,
  // message_delta with the final usage, message_stop). message_start goes out at once (with
  // output_tokens 1, as the API sends it); the first delta after STREAM_TTFT_MS.
  async function messages(req, res, body) {
    const n = ++counter;
    const msgs = body.messages ?? [];
    const last = msgs[msgs.length - 1] ?? {};
    const blocks = (m) => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []));
    const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text ?? '').join('\n');
    const userText = msgs.filter((m) => m.role === 'user').flatMap(blocks).map((b) => b.text ?? '').join('\n');
    const hasToolResult = last.role === 'user' && blocks(last).some((b) => b.type === 'tool_result');
    const kind = /should fail/i.test(`${system}\n${userText}`)
      ? 'error'
      : hasToolResult
        ? 'tool_result'
        : Array.isArray(body.tools) && body.tools.length > 0
          ? 'tool_call'
          : body.stream
            ? 'stream'
            : 'chat';
    const ex = {
      path: '/v1/messages',
      requestModel: body.model,
      stream: !!body.stream,
      promptMessages: [
        ...(system ? [{ role: 'system', text: system }] : []),
        ...msgs.map((m) => ({ role: m.role, text: blocks(m).map((b) => b.text ?? '').join('') || undefined, toolCalls: blocks(m).filter((b) => b.type === 'tool_use').length || undefined })),
      ],
      toolsOffered: (body.tools ?? []).map((t) => t.name),
      kind,
    };
    const headers = { 'request-id': `req_fixture_${n}`, 'anthropic-organization-id': 'org-fixture' };
    if (kind === 'error') {
      await sleep(NON_STREAM_DELAY_MS);
      const err = { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit (fake provider).' }, request_id: `req_fixture_${n}` };
      ex.response = { status: 429, error: { code: err.error.type, message: err.error.message }, retryAfter: '1' };
      record(ex);
      return sendJson(res, 429, err, { ...headers, 'retry-after': '1', 'x-should-retry': 'true' });
    }
    const u = ANTHROPIC_USAGE[kind];
    const usage = {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      cache_creation: { ephemeral_5m_input_tokens: u.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
      output_tokens: u.output_tokens,
      service_tier: 'standard',
    };
    let content;
    let stopReason;
    if (kind === 'tool_call') {
      const tool = body.tools[0];
      content = [{ type: 'tool_use', id: `toolu_fixture_${n}`, name: tool.name, input: sampleFromSchema(tool.input_schema ?? { type: 'object', properties: { city: { type: 'string' } } }) }];
      stopReason = 'tool_use';
    } else {
      content = [{ type: 'text', text: answerText(kind, userText, body) }];
      stopReason = 'end_turn';
    }
    const id = `msg_fixture_${n}`;
    ex.response = {
      status: 200,
      id,
      model: ANTHROPIC_RESPONSE_MODEL,
      finishReason: stopReason,
      text: content[0].text,
      toolCalls: content[0].type === 'tool_use' ? [{ id: content[0].id, name: content[0].name, arguments: JSON.stringify(content[0].input) }] : undefined,
      // inputTokens in OTel's sense (cache reads and writes included); wire: what the API said.
      usage: {
        inputTokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
        outputTokens: u.output_tokens,
        totalTokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens + u.output_tokens,
        cachedTokens: u.cache_read_input_tokens,
        cacheWriteTokens: u.cache_creation_input_tokens,
        reasoningTokens: 0,
        wire: { input_tokens: u.input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, output_tokens: u.output_tokens },
      },
    };
    const message = { id, type: 'message', role: 'assistant', model: ANTHROPIC_RESPONSE_MODEL, content, stop_reason: stopReason, stop_sequence: null, usage };
    if (!body.stream) {
      await sleep(NON_STREAM_DELAY_MS);
      ex.response.timing = { delayMs: NON_STREAM_DELAY_MS };
      record(ex);
      return sendJson(res, 200, message, headers);
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    send('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } });
    const block = content[0];
    const deltas = [];
    if (block.type === 'tool_use') {
      send('content_block_start', { index: 0, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      const a = JSON.stringify(block.input);
      const mid = Math.floor(a.length / 2);
      for (const piece of [a.slice(0, mid), a.slice(mid)]) deltas.push({ type: 'input_json_delta', partial_json: piece });
    } else {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      for (const w of block.text.match(/\S+\s*/g)) deltas.push({ type: 'text_delta', text: w });
    }
    send('ping', {});
    await sleep(STREAM_TTFT_MS);
    let first = true;
    for (const delta of deltas) {
      if (!first) await sleep(STREAM_CHUNK_INTERVAL_MS);
      first = false;
      send('content_block_delta', { index: 0, delta });
    }
    send('content_block_stop', { index: 0 });
    await sleep(STREAM_CHUNK_INTERVAL_MS);
    const { cache_creation: _cc, service_tier: _st, ...deltaUsage } = usage;
    send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: deltaUsage });
    send('message_stop', {});
    res.end();
    ex.response.timing = {
      ttftMs: STREAM_TTFT_MS,
      chunkIntervalMs: STREAM_CHUNK_INTERVAL_MS,
      contentChunks: deltas.length,
      usageChunkSent: true,
      approxTotalMs: STREAM_TTFT_MS + STREAM_CHUNK_INTERVAL_MS * deltas.length,
    };
    record(ex);
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      if (req.method !== 'POST') return sendJson(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      const body = await readJson(req);
      if (url.pathname.endsWith('/chat/completions')) return await chat(req, res, body);
      if (url.pathname.endsWith('/embeddings')) return await embeddings(req, res, body);
      if (url.pathname.endsWith('/responses')) return await responses(req, res, body);
      if (url.pathname.endsWith('/v1/messages')) return await messages(req, res, body);
      record({ path: url.pathname, kind: 'unknown', response: { status: 404 } });
      return sendJson(res, 404, { error: { message: `unknown path ${url.pathname}`, type: 'invalid_request_error' } });
    } catch (e) {
      console.error('[fake-provider] error', e);
      try {
        sendJson(res, 500, { error: { message: 'fake provider crashed', type: 'server_error' } });
      } catch {}
    }
  });

  return {
    exchanges,
    listen: () =>
      new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`))),
    close: () => new Promise((r) => server.close(r)),
  };
}
