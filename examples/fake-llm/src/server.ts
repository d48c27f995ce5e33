import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { anthropicError, messages } from './anthropic.js'
import { json, type Json } from './http.js'
import { errorStatus, MALFORMED } from './model.js'
import { chat, embeddings, models, openaiError, responses } from './openai.js'

export interface FakeLlmOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Address to listen on; default 127.0.0.1. */
  host?: string
}

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: Record<string, unknown>
}

export interface FakeLlm {
  /** Base URL, e.g. `http://127.0.0.1:41234`. OpenAI clients take `${url}/v1`; `@anthropic-ai/sdk` takes `url`. */
  url: string
  /** Every request received, in order. */
  requests: RecordedRequest[]
  close(): Promise<void>
}

/**
 * Starts a local server speaking the OpenAI (chat completions, Responses API,
 * embeddings) and Anthropic (messages) wire formats, JSON and SSE, so the real
 * client libraries run unmodified against it. The request's `model` picks a behaviour:
 *   error-<status>  → that HTTP error (e.g. error-429, error-500) with the provider's JSON error body
 *   slow            → a long stream with pauses (for aborts)
 *   malformed       → 200 with a body of the wrong shape
 * Tools in the request make the model call one unless a tool result is last.
 */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? ''
      const body = parseBody(Buffer.concat(chunks))
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: body ?? {} })
      if (body === undefined) return openaiError(res, 400, 'body is not JSON')
      handle(req, res, path, body).catch(() => res.destroy())
    })
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function parseBody(buf: Buffer): Json | undefined {
  if (buf.length === 0) return {}
  try {
    const v: unknown = JSON.parse(buf.toString())
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined
  } catch {
    return undefined
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, path: string, body: Json): Promise<void> {
  // Clients disagree on whether the base URL ends in /v1 (the Anthropic SDK: no, @ai-sdk/anthropic: yes); take both.
  const route = path.startsWith('/v1/') ? path : `/v1${path}`
  const anthropic = route.startsWith('/v1/messages')
  const status = errorStatus(String(body.model ?? ''))
  if (status) return anthropic ? anthropicError(res, status) : openaiError(res, status)
  if (body.model === 'malformed') return json(res, 200, MALFORMED)
  switch (`${req.method} ${route}`) {
    case 'POST /v1/chat/completions':
      return chat(res, body)
    case 'POST /v1/responses':
      return responses(res, body)
    case 'POST /v1/embeddings':
      return embeddings(res, body)
    case 'POST /v1/messages':
      return messages(res, body)
    case 'GET /v1/models':
      return models(res)
    default:
      return anthropic ? anthropicError(res, 404, `no route ${path}`) : openaiError(res, 404, `no route ${path}`)
  }
}
