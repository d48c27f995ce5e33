import { isObj } from './json-fields.js'
import { type Attrs, setOwn } from './model.js'
import { anyValue, keyValues, MAX_ATTRIBUTES, ValueTypeError } from './values.js'
import { keyValueAt } from './values-protobuf.js'
import { WIRE_LEN, type WireReader } from './wire.js'

/**
 * Which attributes of a span, a log record or a resource are kept, over JSON and
 * protobuf alike: the first MAX_ATTRIBUTES whatever their names, and past them up to
 * MAX_ATTRIBUTES more of the names the normalizer reads from that list
 * (normalize/convention-keys.ts); the rest are left out and counted. An app that sets
 * 1,100 attributes of its own before the GenAI ones had its span stored as `other`,
 * without model, tokens, cost or input, and a resource its service.name, and nothing
 * said so. At most 2 × MAX_ATTRIBUTES are kept, so a list of millions of attributes
 * costs no more memory than before. A span event or link, a metric point or an exemplar
 * keeps its first MAX_ATTRIBUTES and counts the rest (no names are read past them).
 */

/** Whether a name past the first MAX_ATTRIBUTES is kept; without one, none is (a scope's attributes). */
export type KeptPastCap = (key: string) => boolean

/** The attributes kept of an OTLP JSON `attributes` list, and how many were left out. */
export function jsonAttributes(list: unknown, keep?: KeptPastCap): { attributes: Attrs; dropped: number } {
  const attributes = keyValues(list)
  if (!Array.isArray(list) || list.length <= MAX_ATTRIBUTES) return { attributes, dropped: 0 }
  let past = 0
  let dropped = 0
  for (let i = MAX_ATTRIBUTES; i < list.length; i++) {
    const kv: unknown = list[i]
    const key = isObj(kv) ? (kv.key ?? '') : undefined
    if (!isObj(kv) || typeof key !== 'string' || past >= MAX_ATTRIBUTES || !keep?.(key)) {
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
  return { attributes, dropped }
}

/** An OTLP JSON `attributes` list as its owner keeps it: the attributes, and how many were left out (absent when none were). */
export function cappedJsonAttributes(list: unknown, keep?: KeptPastCap): { attributes: Attrs; droppedAttributes?: number } {
  const { attributes, dropped } = jsonAttributes(list, keep)
  return dropped > 0 ? { attributes, droppedAttributes: dropped } : { attributes }
}

/** A protobuf attributes field, one KeyValue at a time as its message is read, into `out`. */
export class WireAttributes {
  /** How many were left out so far. */
  dropped = 0
  private read = 0
  private past = 0

  constructor(
    private readonly out: Attrs,
    private readonly keep?: KeptPastCap,
  ) {}

  /** The KeyValue at r.pos, length prefix included: kept, or skipped and counted. */
  next(r: WireReader): void {
    if (this.read++ < MAX_ATTRIBUTES) return keyValueAt(r, this.out, 0)
    if (this.keep && this.past < MAX_ATTRIBUTES && this.keep(keyAt(r))) {
      this.past++
      return keyValueAt(r, this.out, 0)
    }
    this.dropped++
    r.skip(WIRE_LEN)
  }

  /** Once the owner's message is read: how many were left out, on the owner (absent when none were). */
  noteDroppedOn(owner: { droppedAttributes?: number }): void {
    if (this.dropped > 0) owner.droppedAttributes = this.dropped
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

/**
 * How many attributes each resource or scope left out. Every item of a resource or scope
 * shares its one attributes object (both envelopes), and the stored map is built once per
 * object (normalize.ts sharedStrings), which reads the count from here.
 */
const sharedDropped = new WeakMap<Attrs, number>()

/** Adds to the count: protobuf merges a message given twice, a resource's or scope's too. */
export function noteSharedDropped(shared: Attrs, dropped: number): void {
  if (dropped > 0) sharedDropped.set(shared, droppedFromShared(shared) + dropped)
}

/** A resource's or scope's attributes left out past the cap; 0 when none were. */
export function droppedFromShared(shared: Attrs): number {
  return sharedDropped.get(shared) ?? 0
}
