/**
 * The text of a stored input or output, as SQL. Structured content is stored as a JSON array
 * of OpenTelemetry GenAI messages ({role, parts: [{type: 'text', content}, {type: 'tool_call',
 * ...}]}: ingest's normalize/content.ts), either as the normalizer wrote it or, for
 * gen_ai.input.messages, as the sender did (any key order, any spacing). Analytics that read
 * words or letters (drift's text signals, the `language` group key, custom refusal phrases)
 * read this text: read as stored, every structured prompt adds the words role, user, parts,
 * type, text and content and is never without Latin letters, and its escapes (\n, \") split
 * and hide words.
 *
 * A JSON array of objects gives its messages' text parts (a message without parts: its
 * `content`), one message or part per line; anything else (a plain prompt) is the text itself.
 * With `partChars`, each part (a plain value: the value) is cut to its first `partChars`
 * characters, so a long system prompt does not crowd out the user's turn after it.
 * One parse per value: JSONExtract into named tuples reads the fields by name. Over 20,000
 * prompts (70% structured with a 1.5 KB system prompt), tokenizing the first 4000 characters
 * took 1.1 to 1.4 times as long as tokenizing the raw value (a whole prompt's JSON parse
 * instead of 4000 characters).
 */
export function contentText(value: string, partChars?: number): string {
  const cut = (x: string) => (partChars === undefined ? x : `substringUTF8(${x}, 1, ${partChars})`)
  const messages = `JSONExtract(${value}, 'Array(Tuple(parts Array(Tuple(type String, content String)), content String))')`
  const lines = `arrayFlatten(arrayMap(m -> if(empty(m.1), [${cut('m.2')}], arrayMap(p -> ${cut('p.2')}, arrayFilter(p -> p.1 = 'text', m.1))), ${messages}))`
  return `if(match(${value}, '^\\\\s*\\\\[\\\\s*\\\\{') AND isValidJSON(${value}), arrayStringConcat(${lines}, '\\n'), ${cut(value)})`
}
