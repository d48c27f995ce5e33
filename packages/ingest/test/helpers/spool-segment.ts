import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PriceTable } from '../../src/normalize/cost.js'
import { normalizeSpan } from '../../src/normalize/normalize.js'
import type { OtlpSpan } from '../../src/otlp/model.js'
import { compileEncoder, encodeRow, LEGACY_SPAN_COLUMNS } from '../../src/pipeline/row-format.js'
import { indexEntry } from '../../src/pipeline/segment-index.js'
import { SPAN_INSERT_COLUMNS, type SpanRow } from '../../src/schema/span-columns.js'

// Spool segments written the way the spool writes them, for tests that start a server on a
// spool an earlier run left: its replay is what they test.

const prices = PriceTable.load(undefined)
let seq = 0
/** A minute ago: inside every retention and every default time range. */
const NOW_S = Math.floor(Date.now() / 1000) - 60

/** One span row, encoded as the spool holds it; every call has ids of its own. */
export function span(project: string, name: string, startSeconds = NOW_S): string {
  seq++
  const ns = `${startSeconds}${String(seq % 1e9).padStart(9, '0')}`
  const s: OtlpSpan = {
    resource: { 'service.name': 'isolation' },
    scopeName: 'test',
    scopeVersion: '',
    scopeAttributes: {},
    traceId: `${'ab'.repeat(12)}${seq.toString(16).padStart(8, '0')}`,
    spanId: `${'cd'.repeat(4)}${seq.toString(16).padStart(8, '0')}`,
    parentSpanId: '',
    name,
    kind: 1,
    startNs: ns,
    endNs: ns,
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  }
  return encodeRow(normalizeSpan(s, project, { prices }))
}

/** A span row in the layout of segments written before their first line named the columns (t2 and earlier). */
export const encodeLegacyRow: (r: SpanRow) => string = compileEncoder(SPAN_INSERT_COLUMNS.filter((c) => LEGACY_SPAN_COLUMNS.includes(c.name)))

/**
 * Writes a plain segment the way the spool does: rows in .seg, one index entry per request,
 * a `spans` segment of format t3 whose first line names `columns` (by default the insert list).
 */
export function writeSegment(spoolDir: string, seqNo: number, requests: string[][], columns: readonly string[] = SPAN_INSERT_COLUMNS.map((c) => c.name)): string {
  mkdirSync(spoolDir, { recursive: true })
  const name = `${String(Date.now()).padStart(14, '0')}-1-${String(seqNo).padStart(6, '0')}.spans.t3.seg`
  const payloads = requests.map((rows) => Buffer.from(rows.map((r) => `${r}\n`).join('')))
  writeFileSync(join(spoolDir, name), Buffer.concat([Buffer.from(`${columns.join('\t')}\n`), ...payloads]))
  writeFileSync(join(spoolDir, name.replace(/\.seg$/, '.idx')), Buffer.concat(payloads.map((p, i) => indexEntry(p, (requests[i] as string[]).length))))
  return name
}

