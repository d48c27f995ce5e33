import { isConventionKey } from '../normalize/convention-keys.js'
import { isObj } from './json-fields.js'
import { type OtlpSpan, setOwn } from './model.js'
import { anyValue, keyValues, MAX_ATTRIBUTES, ValueTypeError } from './values.js'
import { keyValueAt } from './values-protobuf.js'
import { WIRE_LEN, type WireReader } from './wire.js'

/**
 * Which of a span's attributes are kept, over JSON and protobuf alike: the first
 * MAX_ATTRIBUTES whatever their names, and past them up to MAX_ATTRIBUTES more of the
 * names the normalizer reads (normalize/convention-keys.ts); the rest are left out and
 * counted on the span. An app that sets 1,100 attributes of its own before the GenAI
 * ones had its span stored as `other`, without model, tokens, cost or input, and
 * nothing said so. At most 2 × MAX_ATTRIBUTES are kept, so a span of millions of
 * attributes costs no more memory than before.
 */

type SpanAttributes = Pick<OtlpSpan, 'attributes' | 'droppedAttributes'>

/** An OTLP JSON span's `attributes` list. */
export function jsonSpanAttributes(list: unknown): SpanAttributes {
  const attributes = keyValues(list)
  if (!Array.isArray(list) || list.length <= MAX_ATTRIBUTES) return { attributes }
  let past = 0
  let dropped = 0
  for (let i = MAX_ATTRIBUTES; i < list.length; i++) {
    const kv: unknown = list[i]
    const key = isObj(kv) ? (kv.key ?? '') : undefined
    if (!isObj(kv) || typeof key !== 'string' || past >= MAX_ATTRIBUTES || !isConventionKey(key)) {
      dropped++
      continue
    }
    past++
    try {
      setOwn(attributes, key, anyValue(kv.value))
    } catch (err) {
      throw err instanceof ValueTypeError ? err.within(JSON.stringify(key)) : err
    }
  }
  return dropped > 0 ? { attributes, droppedAttributes: dropped } : { attributes }
}

/** A protobuf span's attributes (field 9), one KeyValue at a time as the span is read. */
export class WireSpanAttributes {
  private read = 0
  private past = 0

  constructor(private readonly span: OtlpSpan) {}

  /** The KeyValue at r.pos, length prefix included: kept, or skipped and counted. */
  next(r: WireReader): void {
    if (this.read++ < MAX_ATTRIBUTES) return keyValueAt(r, this.span.attributes, 0)
    if (this.past < MAX_ATTRIBUTES && isConventionKey(keyAt(r))) {
      this.past++
      return keyValueAt(r, this.span.attributes, 0)
    }
    this.span.droppedAttributes = (this.span.droppedAttributes ?? 0) + 1
    r.skip(WIRE_LEN)
  }
}

const KEY = (1 << 3) | WIRE_LEN

/** The key of the KeyValue at r.pos (the last one given, as keyValueAt reads it), leaving r where it was. */
function keyAt(r: WireReader): string {
  const pos = r.pos
  const outer = r.enter()
  let key = ''
  while (!r.done) {
    const tag = r.tag()
    if (tag === KEY) key = r.string()
    else r.skip(tag & 7)
  }
  r.leave(outer)
  r.pos = pos
  return key
}
