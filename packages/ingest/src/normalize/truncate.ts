/**
 * Cutting a value at its limit, in the unit the limit is given in: characters for names
 * and labels, UTF-8 bytes for the limits stated in KiB and MiB (what a row and the
 * spool hold). Never inside a character: half of a surrogate pair or of a UTF-8
 * sequence is stored as U+FFFD, a character the sender never sent.
 */

/** What a cut value ends with. */
export const TRUNCATED = '…[truncated by spanlens]'

/** At most `max` UTF-16 code units of `v` (JavaScript's length), then the marker; a pair the cut would split is left out whole. */
export function cutChars(v: string, max: number): string {
  if (v.length <= max) return v
  const last = v.charCodeAt(max - 1)
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max
  return `${v.slice(0, end)}${TRUNCATED}`
}

/** At most `maxBytes` bytes of `v` in UTF-8, then the marker; a character that would not fit whole is left out. */
export function cutBytes(v: string, maxBytes: number): string {
  // Cheap bound first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
  if (v.length * 3 <= maxBytes || Buffer.byteLength(v) <= maxBytes) return v
  const bytes = Buffer.from(v)
  let end = maxBytes
  // bytes[end] is the first byte left out: a continuation byte (10xxxxxx) means its character began before the cut.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return `${bytes.toString('utf8', 0, end)}${TRUNCATED}`
}
