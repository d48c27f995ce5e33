import { context, createContextKey, type Context } from '@opentelemetry/api'
import { diag } from './diag.js'

/** What `withContext` stamps on every span created inside it. */
export interface SpanlensContext {
  userId?: string
  sessionId?: string
  conversationId?: string
  tags?: string[]
  metadata?: Record<string, string | number | boolean>
}

const KEY = createContextKey('spanlens.context')

export function getSpanlensContext(ctx: Context = context.active()): SpanlensContext | undefined {
  return ctx.getValue(KEY) as SpanlensContext | undefined
}

/**
 * Runs `fn` with user/session/conversation ids, tags and metadata that every
 * span started inside picks up (through the span processor). Nested calls merge:
 * inner ids win, tags accumulate, metadata keys merge.
 */
export function withContext<T>(values: SpanlensContext, fn: () => T): T {
  // As span() and observe() do (observe.ts): given back, rather than a TypeError from inside the SDK.
  if (typeof fn !== 'function') {
    diag.warnOnce(`withContext() takes a function and was given ${fn === null ? 'null' : typeof fn}; it was returned unchanged, without the context`)
    return fn
  }
  let merged: SpanlensContext
  try {
    merged = merge(getSpanlensContext(), given(values))
  } catch {
    // Bad input here must not stop the app's function from running.
    return fn()
  }
  return context.with(context.active().setValue(KEY, merged), fn)
}

/**
 * The values as their types say, from what the app passed (plain JavaScript, values read from
 * a request): an id that is a number or boolean as its string, a single tag as a list of one;
 * anything else is left out. A tag string spread as a list gave one tag per character.
 */
function given(values: SpanlensContext): SpanlensContext {
  if (typeof values !== 'object' || values === null) return {}
  const out: SpanlensContext = {}
  const userId = id(values.userId)
  const sessionId = id(values.sessionId)
  const conversationId = id(values.conversationId)
  if (userId !== undefined) out.userId = userId
  if (sessionId !== undefined) out.sessionId = sessionId
  if (conversationId !== undefined) out.conversationId = conversationId
  const tags: unknown = values.tags
  const list = (Array.isArray(tags) ? tags : [tags]).map(id).filter((t): t is string => t !== undefined)
  if (list.length) out.tags = list
  if (typeof values.metadata === 'object' && values.metadata !== null) out.metadata = values.metadata
  return out
}

function id(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : undefined
}

function merge(outer: SpanlensContext | undefined, inner: SpanlensContext): SpanlensContext {
  if (!outer) return { ...inner, tags: inner.tags ? [...inner.tags] : undefined }
  const tags = [...(outer.tags ?? []), ...(inner.tags ?? []).filter((t) => !(outer.tags ?? []).includes(t))]
  return {
    userId: inner.userId ?? outer.userId,
    sessionId: inner.sessionId ?? outer.sessionId,
    conversationId: inner.conversationId ?? outer.conversationId,
    tags: tags.length ? tags : undefined,
    metadata: outer.metadata || inner.metadata ? { ...outer.metadata, ...inner.metadata } : undefined,
  }
}

/** Span attributes for a context; names the ingest normalizer maps (see README). */
export function contextAttributes(c: SpanlensContext): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {}
  if (c.userId) out['user.id'] = String(c.userId)
  if (c.sessionId) out['session.id'] = String(c.sessionId)
  const conversation = c.conversationId ?? c.sessionId
  if (conversation) out['gen_ai.conversation.id'] = String(conversation)
  if (c.tags?.length) out['spanlens.tags'] = c.tags.map(String)
  if (c.metadata) {
    for (const [k, v] of Object.entries(c.metadata)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[`spanlens.metadata.${k}`] = v
    }
  }
  return out
}
