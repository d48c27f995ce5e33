/**
 * A fetch for an LLM client that answers every request with the server-sent events given, in one
 * body: a stream of any length without a server (the fake model's replies are a few words).
 * `event`: the SSE event name line Anthropic's stream has, taken from each event's `type`.
 */
export function sseFetch(events: unknown[], opts: { eventNames?: boolean; done?: boolean } = {}): typeof fetch {
  return async () => {
    let body = ''
    for (const e of events) {
      const type = (e as { type?: unknown }).type
      if (opts.eventNames && typeof type === 'string') body += `event: ${type}\n`
      body += `data: ${JSON.stringify(e)}\n\n`
    }
    if (opts.done) body += 'data: [DONE]\n\n'
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
  }
}

/** `n` pieces of text, `size` characters each, that together read as prose, punctuated (a cut finds a boundary in it: redact-cut.ts). */
export function textPieces(n: number, size: number): string[] {
  const word = 'lorem ipsum, dolor sit amet. '
  const piece = word.repeat(Math.ceil(size / word.length)).slice(0, size)
  return Array.from({ length: n }, () => piece)
}

/**
 * A fetch whose answer carries the server-sent events given, then fails as a connection cut in the
 * middle of a body does in Node's fetch (`TypeError: terminated`): the client has read the events first.
 */
export function cutSseFetch(events: unknown[]): typeof fetch {
  return async () => {
    const parts = [new TextEncoder().encode(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''))]
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift()
        if (next) controller.enqueue(next)
        else controller.error(new TypeError('terminated'))
      },
    })
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
  }
}
