import { diag } from '../diag.js'
import { getRuntime } from '../runtime.js'

/**
 * Wraps selected methods deep inside an SDK client without mutating it: a Proxy
 * per resource on the way (`chat` → `chat.completions`) and a wrapper for each
 * traced method. Everything else is the client's own value; its methods are
 * bound to the real object so ES private fields (`#x`) keep working, except
 * those that return a new client (COPIES), whose client is wrapped alike.
 */
export type MethodHook = (
  original: (...args: unknown[]) => unknown,
  self: object,
  args: unknown[],
  /** The proxy the method was read from. */
  receiver: object,
  /** The wrapped client (the outermost proxy). */
  root: object,
) => unknown

const WRAPPED = Symbol.for('spanlens.wrapped')

/**
 * For a resource's helpers that send their requests through `this._client` (the unwrapped
 * client a resource holds): openai's chat.completions.parse(), .stream(), .runTools();
 * @anthropic-ai/sdk's beta.messages.toolRunner() and thread(), whose loops send each turn
 * with `client.beta.messages.create`. Runs them with the wrapped client there instead, so
 * each request is traced like a direct create (one span per request, same attributes).
 */
export const throughWrappedClient: MethodHook = (original, self, args, _receiver, root) => {
  const client = (self as { _client?: unknown })._client
  if (!getRuntime() || typeof client !== 'object' || client === null) return original.apply(self, args)
  return original.apply(Object.create(self, { _client: { value: root } }), args)
}

/**
 * The client's methods that return a new client of its kind, with other options: openai's and
 * @anthropic-ai/sdk's `withOptions()`, made by the client's constructor, not from this proxy.
 * The new client is wrapped as this one was, or the calls through it would go untraced.
 */
const COPIES: ReadonlySet<PropertyKey> = new Set(['withOptions'])

interface Wrapping {
  readonly hooks: Record<string, MethodHook>
  /** Every path that leads to a hook (`chat`, `chat.completions`), whose objects get a proxy. */
  readonly prefixes: ReadonlySet<string>
  readonly api: string
}

/** What every proxy of one wrapped client shares: how it is wrapped, and the outermost proxy. */
interface Top extends Wrapping {
  root?: object
}

export function wrapClient<T extends object>(client: T, hooks: Record<string, MethodHook>, api = 'wrapClient'): T {
  // Plain JavaScript can pass anything (a client not made yet: undefined): given back as is, as the SDK never throws into the app.
  if ((typeof client !== 'object' && typeof client !== 'function') || client === null) {
    diag.warnOnce(`${api}() takes a client object and was given ${client === null ? 'null' : typeof client}; it was returned unchanged, untraced`)
    return client
  }
  try {
    if ((client as Record<symbol, unknown>)[WRAPPED]) return client
  } catch (err) {
    // A client (a Proxy of the app's) that throws when read: the app's own reads will say so.
    diag.instrumentationError(api, err)
    return client
  }
  const prefixes = new Set<string>()
  for (const path of Object.keys(hooks)) {
    const parts = path.split('.')
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('.'))
  }
  return wrapRoot(client, { hooks, prefixes, api })
}

function wrapRoot<T extends object>(client: T, { hooks, prefixes, api }: Wrapping): T {
  const top: Top = { hooks, prefixes, api }
  const wrapped = proxy(client, '', top)
  top.root = wrapped
  return wrapped
}

function proxy<T extends object>(target: T, path: string, top: Top): T {
  const { hooks, prefixes } = top
  const cache = new Map<PropertyKey, Cached>()
  const handler: ProxyHandler<T> = {
    get(t, prop, receiver) {
      if (prop === WRAPPED) return true
      const value: unknown = Reflect.get(t, prop, t)
      // Every call goes through here (`client.chat.completions.create`): answer
      // from the cache before building the dotted key, which is a new string each time.
      const hit = cache.get(prop)
      if (hit !== undefined && hit.of === value) return hit.fn
      // A Proxy must give a read-only, non-configurable property (a frozen client's) as it is:
      // anything else throws a TypeError in the app's read. Given as it is, untraced.
      if (isFixed(t, prop)) {
        const key = typeof prop === 'string' ? (path ? `${path}.${prop}` : prop) : undefined
        if (key !== undefined && ((typeof value === 'function' && hooks[key]) || (typeof value === 'object' && value !== null && prefixes.has(key)))) {
          diag.warnOnce(`${top.api}(): the client's \`${key}\` is frozen (read-only and not configurable), so calls under it are not traced`)
        }
        cache.set(prop, { fn: value, of: value })
        return value
      }
      if (typeof prop === 'symbol') return typeof value === 'function' ? bindCached(cache, prop, value, t) : value
      const key = path ? `${path}.${prop}` : prop
      const hook = hooks[key]
      if (typeof value === 'function') {
        if (!hook) return path === '' && COPIES.has(prop) ? copyCached(cache, prop, value, t, top) : bindCached(cache, prop, value, t)
        const original = value as (...args: unknown[]) => unknown
        const fn = function (...args: unknown[]) {
          return hook(original, t, args, receiver as object, top.root as object)
        }
        cache.set(prop, { fn, of: value })
        return fn
      }
      if (typeof value === 'object' && value !== null && prefixes.has(key)) {
        const inner = proxy(value, key, top)
        cache.set(prop, { fn: inner, of: value })
        return inner
      }
      return value
    },
  }
  return new Proxy(target, handler)
}

/** Whether the Proxy invariants pin what a read of `prop` returns: the target's own read-only, non-configurable data property. */
function isFixed(target: object, prop: PropertyKey): boolean {
  const d = Reflect.getOwnPropertyDescriptor(target, prop)
  return d !== undefined && d.configurable === false && d.writable === false
}

interface Cached {
  fn: unknown
  of: unknown
}

function bindCached(cache: Map<PropertyKey, Cached>, prop: PropertyKey, fn: unknown, self: object): unknown {
  const bound = (fn as (...a: unknown[]) => unknown).bind(self)
  // Keep static-like props (e.g. `name`) visible on the bound copy.
  cache.set(prop, { fn: bound, of: fn })
  return bound
}

/** `withOptions` and its kind (COPIES): the client it returns, wrapped as `top` wraps its client. */
function copyCached(cache: Map<PropertyKey, Cached>, prop: PropertyKey, fn: unknown, self: object, top: Top): unknown {
  const original = fn as (...a: unknown[]) => unknown
  const copy = function (...args: unknown[]): unknown {
    const made = original.apply(self, args)
    if (made === self) return top.root
    if ((typeof made !== 'object' && typeof made !== 'function') || made === null) return made
    return wrapRoot(made, top)
  }
  cache.set(prop, { fn: copy, of: fn })
  return copy
}
