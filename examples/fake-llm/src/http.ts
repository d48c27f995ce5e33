import type { ServerResponse } from 'node:http'

export type Json = Record<string, unknown>

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export const unixNow = () => Math.floor(Date.now() / 1000)

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_test', ...headers })
  res.end(JSON.stringify(body))
}

/** Opens an SSE response; the returned function writes one event (a string `data` is sent as is, e.g. `[DONE]`). */
export function sse(res: ServerResponse): (data: unknown, event?: string) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'req_test' })
  return (data, event) => {
    if (res.destroyed) return
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
  }
}

/** Splits a text into the small pieces a streamed reply is sent in. */
export function pieces(text: string, size = 6): string[] {
  return text.match(new RegExp(`[^]{1,${size}}`, 'g')) ?? []
}
