import { gunzipSync, inflateSync } from 'node:zlib'

/**
 * What a client believes it sent: the spans in a body, with their ids, read
 * apart from the server's decoder. Protobuf is walked as the reference
 * implementations parse it (a known field with another wire type is an unknown
 * field and skipped; protobufjs instead reads it by the schema's type and so
 * miscounts); JSON is JSON.parse'd, taking the proto field names too.
 * undefined = the body is not a request at all, so an acknowledgement of it
 * promises nothing countable.
 */
export interface SentSpans {
  count: number
  /** `${traceIdHex}/${spanIdHex}` per span, as written (ids of any length). */
  keys: string[]
}

export function spansInBody(format: 'protobuf' | 'json', body: Buffer, compression: 'none' | 'gzip' | 'deflate'): number | undefined {
  return sentSpans(format, body, compression)?.count
}

export function sentSpans(format: 'protobuf' | 'json', body: Buffer, compression: 'none' | 'gzip' | 'deflate'): SentSpans | undefined {
  let raw: Buffer
  try {
    raw = compression === 'gzip' ? gunzipSync(body) : compression === 'deflate' ? inflateSync(body) : body
  } catch {
    return undefined
  }
  return format === 'protobuf' ? protobufSpans(raw) : jsonSpans(raw)
}

interface Field {
  no: number
  wt: number
  bytes?: Buffer
}

/** The top-level fields of one message; throws on anything the wire format forbids. */
function fields(b: Buffer): Field[] {
  const out: Field[] = []
  let at = 0
  const varint = (): bigint => {
    let v = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= b.length) throw new Error('truncated varint')
      const byte = b[at++] as number
      v |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return v
    }
    throw new Error('varint too long')
  }
  while (at < b.length) {
    const tag = varint()
    const no = Number(tag >> 3n)
    const wt = Number(tag & 7n)
    if (no === 0) throw new Error('field number 0')
    if (wt === 0) varint()
    else if (wt === 1 || wt === 5) {
      at += wt === 1 ? 8 : 4
      if (at > b.length) throw new Error('truncated fixed')
    } else if (wt === 2) {
      const len = varint()
      if (len > BigInt(b.length - at)) throw new Error('length past the end')
      out.push({ no, wt, bytes: b.subarray(at, at + Number(len)) })
      at += Number(len)
      continue
    } else if (wt === 3) {
      // A group: skip to its matching end tag.
      let depth = 1
      while (depth > 0) {
        const t = varint()
        const w = Number(t & 7n)
        if (w === 3) depth++
        else if (w === 4) depth--
        else if (w === 0) varint()
        else if (w === 1 || w === 5) at += w === 1 ? 8 : 4
        else if (w === 2) at += Number(varint())
        else throw new Error('bad wire type')
        if (at > b.length) throw new Error('truncated group')
      }
    } else throw new Error(`wire type ${wt}`)
    out.push({ no, wt })
  }
  return out
}

const sub = (list: Field[], no: number) => list.filter((f) => f.no === no && f.wt === 2).map((f) => f.bytes as Buffer)

function protobufSpans(raw: Buffer): SentSpans | undefined {
  try {
    const keys: string[] = []
    for (const rs of sub(fields(raw), 1)) {
      for (const ss of sub(fields(rs), 2)) {
        for (const span of sub(fields(ss), 2)) {
          const f = fields(span)
          // Last one wins for a repeated scalar, as in every protobuf parser.
          const id = (no: number) => (sub(f, no).pop() ?? Buffer.alloc(0)).toString('hex')
          keys.push(`${id(1)}/${id(2)}`)
        }
      }
    }
    return { count: keys.length, keys }
  } catch {
    return undefined
  }
}

function jsonSpans(raw: Buffer): SentSpans | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    return undefined
  }
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
  const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined
  // proto3 JSON: a parser accepts the lowerCamelCase name and the proto field name. Both at
  // once is a field given twice, which the mapping leaves undefined: no count is promised.
  let ambiguous = false
  const list = (o: Record<string, unknown>, camel: string, snake: string): unknown[] => {
    if (o[camel] !== undefined && o[snake] !== undefined) ambiguous = true
    return arr(o[camel] ?? o[snake])
  }
  const keys: string[] = []
  for (const r of list(obj(doc), 'resourceSpans', 'resource_spans')) {
    for (const s of list(obj(r), 'scopeSpans', 'scope_spans')) {
      for (const sp of arr(obj(s).spans)) {
        const o = obj(sp)
        const id = (camel: string, snake: string, bytes: number) => jsonId(o[camel] ?? o[snake], bytes)
        keys.push(`${id('traceId', 'trace_id', 16)}/${id('spanId', 'span_id', 8)}`)
      }
    }
  }
  return ambiguous ? undefined : { count: keys.length, keys }
}

/** An OTLP JSON id as hex: hex as written, or the base64 some exporters send when it is the id's length. */
function jsonId(v: unknown, bytes: number): string {
  const text = typeof v === 'string' ? v : String(v ?? '')
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(text)) return text.toLowerCase()
  const b = Buffer.from(text, 'base64')
  return b.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(text) ? b.toString('hex') : text.toLowerCase()
}
