import type { DiagLogger } from '../../src/index.js'

/** A logger for init() that keeps every warning and error line it is given, in order. */
export function captureLogger(): DiagLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, debug: () => {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}
