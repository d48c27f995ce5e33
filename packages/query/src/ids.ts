import { errors } from './errors.js'

/**
 * A session or user id of a route's path, as stored (any text, case kept); an empty one
 * is a 400 naming it: it would read every span without one, as if that were a session or a user.
 */
export function labelParam(name: 'sessionId' | 'userId', raw: string): string {
  if (raw === '') throw errors.BAD_REQUEST(`${name}: empty; the path names no ${name === 'sessionId' ? 'session' : 'user'}`)
  return raw
}
