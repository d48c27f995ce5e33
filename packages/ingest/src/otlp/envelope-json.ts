import { errors } from '../errors.js'
import type { Attrs } from './model.js'
import { JsonTypeError, field, isObj, list, message, text } from './json-fields.js'
import { readExactly } from './exact-json.js'
import { jsonResourceList } from './request-body.js'
import { jsonAttributes, type KeptPastCap, noteSharedDropped } from './attribute-cap.js'
import { isResourceConventionKey } from '../normalize/convention-keys.js'

/** The resource and scope of the items being read. */
export interface JsonScope {
  resource: Attrs
  name: string
  version: string
  /** One object for every item of the scope, as the resource's is. */
  attributes: Attrs
}

/** The names of one export request's envelope: the message, and its lists' JSON names. */
export interface JsonEnvelope {
  message: string
  resources: string
  scopes: string
  items: string
}

/**
 * The envelope the three OTLP JSON export requests share, resources → scopes → items.
 * `item` gets each item as parsed, its position in the request (from 0, each entry of
 * every items list in the order sent, across resources and scopes, as the protobuf
 * envelope counts them), and its resource and scope, or why they cannot be read (a
 * resource or scope attribute of the wrong type, a scope name that is not a string): the
 * signal then refuses that item's spans, records or points with that reason, and the rest
 * of the request is kept. A scope's attributes are read as a resource's are, its first
 * MAX_ATTRIBUTES kept. A list that is not one, or an entry of it that is not an object,
 * leaves nothing to count: that is a 400, as is a body that is not JSON. Null entries
 * are skipped.
 *
 * `begin` makes a fresh reader (its item callback and what it collects): a body with an
 * integer past 2^53 as a JSON number is read twice, the second time exactly (exact-json.ts).
 */
export function readJsonEnvelope<T>(body: Buffer, names: JsonEnvelope, begin: () => JsonReader<T>): T {
  return readExactly(body, (parse) => {
    const reader = begin()
    walk(jsonResourceList(body, parse, names.message, names.resources), names, reader.item)
    return reader.result
  })
}

/** What one read of a JSON body collects, and how it takes each item. */
export interface JsonReader<T> {
  item: (raw: unknown, position: number, scope: JsonScope | string) => void
  result: T
}

function walk(resources: unknown[], names: JsonEnvelope, item: JsonReader<unknown>['item']): void {
  let position = 0
  try {
    for (let r = 0; r < resources.length; r++) {
      const rs = entry(resources[r], names.resources, r)
      if (!rs) continue
      const resource = readResource(rs)
      const scopes = list(rs, names.scopes)
      for (let s = 0; s < scopes.length; s++) {
        const ss = entry(scopes[s], names.scopes, s)
        if (!ss) continue
        const scope = typeof resource === 'string' ? resource : readScope(ss, resource)
        const items = list(ss, names.items)
        for (let i = 0; i < items.length; i++) item(items[i], position++, scope)
      }
    }
  } catch (err) {
    if (err instanceof JsonTypeError) throw errors.BAD_OTLP(`JSON body is not an ${names.message}: ${err.message}`)
    throw err
  }
}

function entry(v: unknown, listName: string, index: number): Record<string, unknown> | undefined {
  if (v === null) return undefined
  if (!isObj(v)) throw new JsonTypeError(`${listName}[${index}] must be an object`)
  return v
}

/** The resource's attributes, or why they cannot be read. Every item of it shares the one object (normalize caches by it). */
function readResource(rs: Record<string, unknown>): Attrs | string {
  try {
    const resource = message(rs, 'resource')
    return resource ? resourceAttributes(resource) : {}
  } catch (err) {
    if (err instanceof JsonTypeError) return err.message
    throw err
  }
}

/** The scope's name, version and attributes, or why they cannot be read. */
function readScope(ss: Record<string, unknown>, resource: Attrs): JsonScope | string {
  try {
    const scope = message(ss, 'scope')
    if (!scope) return { resource, name: '', version: '', attributes: {} }
    const name = text(scope, 'name', 'scope name')
    const version = text(scope, 'version', 'scope version')
    const { attributes, dropped } = ownAttributes(scope, 'scope')
    noteSharedDropped(attributes, dropped)
    return { resource, name, version, attributes }
  } catch (err) {
    if (err instanceof JsonTypeError) return err.message
    throw err
  }
}

/** A resource's attributes, past the cap those the normalizer reads (attribute-cap.ts). */
function resourceAttributes(o: Record<string, unknown>): Attrs {
  const { attributes, dropped } = ownAttributes(o, 'resource', isResourceConventionKey)
  noteSharedDropped(attributes, dropped)
  return attributes
}

/**
 * A resource's or scope's attributes (attribute-cap.ts; a scope keeps none past the cap); a value
 * of the wrong type is named with `owner` ('scope attribute "k": …').
 */
function ownAttributes(o: Record<string, unknown>, owner: 'resource' | 'scope', keep?: KeptPastCap): ReturnType<typeof jsonAttributes> {
  try {
    return jsonAttributes(field(o, 'attributes'), keep)
  } catch (err) {
    if (err instanceof JsonTypeError) throw new JsonTypeError(`${owner} ${err.message}`)
    throw err
  }
}
