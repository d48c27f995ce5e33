import type { Json } from './http.js'

/**
 * What the fake "model" does, independent of wire format. Everything is
 * deterministic so tests can assert exact values.
 */

export const REPLY = {
  openaiChat: 'Hello from the fake model!',
  openaiResponses: 'Responses hello',
  anthropic: 'Hello from Claude',
} as const

/** `error-<status>` models fail with that HTTP status; anything else succeeds. */
export function errorStatus(model: string): number | undefined {
  const m = /^error-(\d{3})$/.exec(model)
  const status = m ? Number(m[1]) : NaN
  return status >= 400 && status <= 599 ? status : undefined
}

/** The `slow` model streams 200 tokens 10 ms apart, long enough to abort mid-stream. */
export const isSlow = (model: string) => model === 'slow'

/** The `malformed` model answers 200 with a body of the wrong shape. */
export const MALFORMED = { choices: 'not-a-list', usage: 42, content: { weird: true }, output: 7 }

// Values the fake model "knows", by property name; other properties get a value of their type.
const KNOWN: Record<string, unknown> = { city: 'Paris', name: 'Ada', age: 36 }

/**
 * A value matching a JSON schema: `const`, `enum[0]`, `examples[0]` or `default` when given,
 * a known value for the property name, else a placeholder of the schema's type.
 */
function sampleFromSchema(schema: unknown, prop = ''): unknown {
  const s = (schema && typeof schema === 'object' ? schema : {}) as Json
  if ('const' in s) return s.const
  for (const key of ['enum', 'examples'] as const) {
    const list = s[key]
    if (Array.isArray(list) && list.length) return list[0]
  }
  if ('default' in s) return s.default
  const anyOf = (s.anyOf ?? s.oneOf) as unknown[] | undefined
  if (Array.isArray(anyOf) && anyOf.length) return sampleFromSchema(anyOf.find((x) => (x as Json)?.type !== 'null') ?? anyOf[0], prop)
  if (prop in KNOWN) return KNOWN[prop]
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type
  switch (type) {
    case 'object':
    case undefined: {
      const props = (s.properties ?? {}) as Json
      if (type === undefined && !s.properties) return `${prop || 'value'} example`
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFromSchema(v, k)]))
    }
    case 'array':
      return [sampleFromSchema(s.items, prop)]
    case 'integer':
    case 'number':
      return 1
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      return `${prop || 'value'} example`
  }
}

/** The JSON arguments the fake model passes to a tool with this parameters schema. */
export function toolArguments(parameters: unknown): string {
  const value = sampleFromSchema(parameters ?? { type: 'object' })
  return JSON.stringify(value && typeof value === 'object' && !Array.isArray(value) ? value : {})
}

/** The JSON text the fake model answers when a JSON response is asked for (with or without a schema). */
export function jsonReply(schema: unknown): string {
  return schema ? JSON.stringify(sampleFromSchema(schema)) : JSON.stringify({ name: KNOWN.name, age: KNOWN.age })
}

/**
 * A deterministic unit vector for a text: hashed word features, so texts sharing
 * words are closer (cosine) than texts that don't — good enough for a toy retriever.
 */
export function embed(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0)
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619)
    v[(h >>> 0) % dimensions]! += 1
  }
  const norm = Math.hypot(...v)
  return norm ? v.map((x) => Math.round((x / norm) * 1e6) / 1e6) : v.map((_, i) => (i === 0 ? 1 : 0))
}
