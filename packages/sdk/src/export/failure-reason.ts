/** The longest reason taken from a server's reply, in characters. */
const MAX_REASON = 300

/**
 * What an OTLP/HTTP server said about a refused export, from the start of its
 * reply's body: the `message` of a google.rpc.Status (what OTLP servers send,
 * protobuf for a protobuf request: `SPANLENS_UNAUTHORIZED: invalid API key`), or
 * of a JSON error (`{"error":{"message"}}`, `{"message"}`). Undefined for
 * anything else, a cut or garbled body included: a reason is shown only when it
 * was read whole.
 */
export function failureReason(body: Buffer | undefined): string | undefined {
  if (!body || body.length === 0) return undefined
  const text = body[0] === 0x7b ? jsonError(body.toString('utf8'))?.message : statusMessage(body)
  if (text === undefined) return undefined
  const one = oneLine(text.trim())
  return one === '' ? undefined : one
}

/**
 * A JSON error body's message, with its code when the body has one: `{"error":{"code","message"}}`
 * (a Spanlens server's), `{"error":"…"}`, `{"message":"…"}`. Undefined for anything else.
 */
export function jsonError(text: string): { code: string | undefined; message: string } | undefined {
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } | string; message?: unknown }
    const nested = typeof v.error === 'object' && v.error !== null ? v.error : undefined
    const m = nested ? nested.message : (v.error ?? v.message)
    if (typeof m !== 'string') return undefined
    return { code: typeof nested?.code === 'string' ? nested.code : undefined, message: m }
  } catch {
    return undefined
  }
}

/** A server's reason on one line, cut to MAX_REASON characters. */
export function oneLine(text: string): string {
  const one = text.replace(/\s+/g, ' ')
  return one.length > MAX_REASON ? `${one.slice(0, MAX_REASON)}…` : one
}

/** google.rpc.Status: code = 1 (varint), message = 2 (string), details = 3 (repeated Any). */
function statusMessage(b: Buffer): string | undefined {
  let at = 0
  let message: string | undefined
  const varint = (): number | undefined => {
    let n = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= b.length) return undefined
      const byte = b[at++]!
      n += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return n
    }
    return undefined
  }
  // A body cut at MAX_ERROR_BODY (inside the details that follow the message) or ending
  // in garbage still gives the message read before, whole.
  while (at < b.length) {
    const key = varint()
    if (key === undefined) return message
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (field === 0) return message
    if (wire === 0) {
      if (varint() === undefined) return message
    } else if (wire === 2) {
      const len = varint()
      if (len === undefined || at + len > b.length) return message
      if (field === 2) {
        try {
          message = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(at, at + len))
        } catch {
          return undefined
        }
      }
      at += len
    } else return message
  }
  return message
}
