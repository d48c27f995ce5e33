import type { Attrs } from './model.js'
import { noteSharedDropped, WireAttributes } from './attribute-cap.js'
import { isResourceConventionKey } from '../normalize/convention-keys.js'
import { WIRE_LEN, WireReader } from './wire.js'

/** The instrumentation scope of the items being read. */
export interface ScopeInfo {
  name: string
  version: string
  /** One object for every item of the scope, as the resource's is (normalize.ts builds its stored map once). */
  attributes: Attrs
}

/** Gets one item: the reader bounded to its bytes, its resource and scope, and its position in the request. */
export type EnvelopeItem = (r: WireReader, resource: Attrs, scope: ScopeInfo, position: number) => void

const key = (field: number, wireType: number): number => (field << 3) | wireType
const LEN_1 = key(1, WIRE_LEN)
const LEN_2 = key(2, WIRE_LEN)
const LEN_3 = key(3, WIRE_LEN)

/**
 * The envelope the three OTLP export requests share, from the wire:
 * Export{Trace,Logs,Metrics}ServiceRequest.resource_* = 1 → { resource = 1
 * (Resource.attributes = 1), scope_* = 2 → { scope = 1 (name = 1, version = 2,
 * attributes = 3), items = 2 } }. `item` is called with the reader bounded to one
 * item's bytes, its resource (read first, wherever it sits in the message), its scope
 * and its position: from 0, each item of the request in the order sent, across
 * resources and scopes, as the JSON envelope counts them. A scope's attributes are read
 * as a resource's are (damage in them is a 400 too), its first MAX_ATTRIBUTES kept.
 * Unknown fields are skipped; structural damage throws a WireError for the caller to
 * turn into a 400.
 */
export function readEnvelope(buf: Buffer, item: EnvelopeItem): void {
  const r = new WireReader(buf)
  const next = { position: 0 }
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      const outer = r.enter()
      readResourceItems(r, item, next)
      r.leave(outer)
    } else r.skip(tag & 7)
  }
}

function readResourceItems(r: WireReader, item: EnvelopeItem, next: { position: number }): void {
  // The resource applies to every item wherever it sits in the message: read it
  // first, remember where the scopes are.
  const resource: Attrs = {}
  const scopes: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      const outer = r.enter()
      // Past the cap, the names the normalizer reads (attribute-cap.ts).
      const attributes = new WireAttributes(resource, isResourceConventionKey)
      while (!r.done) {
        const t = r.tag()
        if (t === LEN_1) attributes.next(r)
        else r.skip(t & 7)
      }
      r.leave(outer)
      noteSharedDropped(resource, attributes.dropped)
    } else if (tag === LEN_2) {
      const start = r.lengthDelimited()
      scopes.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  const end = r.end
  for (let i = 0; i < scopes.length; i += 2) {
    r.pos = scopes[i] as number
    r.end = scopes[i + 1] as number
    readScopeItems(r, resource, item, next)
  }
  r.pos = end
  r.end = end
}

function readScopeItems(r: WireReader, resource: Attrs, item: EnvelopeItem, next: { position: number }): void {
  const scope: ScopeInfo = { name: '', version: '', attributes: {} }
  const items: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      const outer = r.enter()
      readScope(r, scope)
      r.leave(outer)
    } else if (tag === LEN_2) {
      const start = r.lengthDelimited()
      items.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  for (let i = 0; i < items.length; i += 2) {
    r.pos = items[i] as number
    r.end = items[i + 1] as number
    item(r, resource, scope, next.position++)
  }
}

/** InstrumentationScope: name = 1, version = 2, attributes = 3 (capped as a resource's, none kept past the cap). */
function readScope(r: WireReader, scope: ScopeInfo): void {
  const attributes = new WireAttributes(scope.attributes)
  while (!r.done) {
    const t = r.tag()
    if (t === LEN_1) scope.name = r.string()
    else if (t === LEN_2) scope.version = r.string()
    else if (t === LEN_3) attributes.next(r)
    else r.skip(t & 7)
  }
  noteSharedDropped(scope.attributes, attributes.dropped)
}
