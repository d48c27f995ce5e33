/**
 * What a streamed completion keeps of its text while it streams: its text, refusal, thinking and
 * tool-call arguments together, in the order they arrive, up to what the content cut reads of the
 * completion (maxContentLength, and the boundary scan after it, redact-cut.ts), so that the recorded
 * output is cut and redacted exactly as the whole completion would be. Kept whole, a long completion
 * (a model looping until max_tokens, a tool call with megabytes of arguments) stayed in memory until
 * its stream ended, for a value cut at 100,000 characters when recorded. Per chunk: a length check and
 * the append the accumulator made anyway.
 */
export class StreamText {
  /** Characters that arrived and were not kept. */
  cut = 0

  constructor(private room: number) {}

  /** `to` with as much of `piece` as there is room for. */
  append(to: string, piece: string): string {
    if (piece.length <= this.room) {
      this.room -= piece.length
      return to + piece
    }
    let keep = this.room
    // Not half of a surrogate pair.
    if (keep > 0 && isHighSurrogate(piece.charCodeAt(keep - 1))) keep--
    this.room = 0
    this.cut += piece.length - keep
    return keep > 0 ? to + piece.slice(0, keep) : to
  }
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
