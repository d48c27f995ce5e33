import { gzipSync } from 'node:zlib'
import { baseRequest, nowNs, requestJsonDoc, requestWire, spliceBytes } from './model.js'
import { mutateModel } from './mutate-model.js'
import { mutateBytes, mutateTree } from './mutate-proto.js'
import { deepenJsonText, mutateJsonObject, mutateJsonText } from './mutate-json.js'
import { Rng } from './rng.js'
import { encodeMessage } from './wire.js'

export type Format = 'protobuf' | 'json'

export interface FuzzCase {
  seed: number
  index: number
  format: Format
  gzip: boolean
  body: Buffer
  /** What was done to the valid request, in order: the case's name in failure messages. */
  labels: string[]
  /** Send this many bytes of the body and then drop the connection (a client that dies mid-upload). */
  abortAfterBytes?: number
}

export const CONTENT_TYPE: Record<Format, string> = { protobuf: 'application/x-protobuf', json: 'application/json' }

/**
 * Case `index` of the campaign `seed`: a valid OTLP request (baseRequest) with
 * 0-3 changes of meaning (mutate-model) and, sometimes, a broken encoding
 * (mutate-proto / mutate-json), gzip, or an upload cut short. Pure: the same
 * (seed, index, now) always gives the same bytes; `now` only moves the times
 * that are meant to be recent.
 */
export function makeCase(seed: number, index: number, opts: { service: string; abortRate?: number; now?: bigint }): FuzzCase {
  const rng = Rng.forCase(seed, index)
  const labels: string[] = []
  const now = opts.now ?? nowNs()
  const model = baseRequest(rng, { service: opts.service, now })
  const n = rng.weighted([[2, 0], [5, 1], [2, 2], [1, 3]] as const)
  for (let k = 0; k < n; k++) labels.push(mutateModel(rng, model, now))
  const format: Format = rng.bool(0.55) ? 'protobuf' : 'json'
  let body: Buffer
  if (format === 'protobuf') {
    let tree = requestWire(model)
    if (rng.bool(0.25)) {
      const m = mutateTree(rng, tree)
      tree = m.tree
      labels.push(m.label)
    }
    body = encodeMessage(tree)
    if (rng.bool(0.15)) {
      const m = mutateBytes(rng, body)
      body = m.body
      labels.push(m.label)
    }
  } else {
    const numericTimes = rng.bool(0.1)
    if (numericTimes) labels.push('json.numericTimes')
    const { doc, raw } = requestJsonDoc(model, numericTimes)
    if (rng.bool(0.35)) labels.push(mutateJsonObject(rng, doc))
    body = spliceBytes(deepenJsonText(JSON.stringify(doc)), raw)
    if (rng.bool(0.15)) {
      const m = mutateJsonText(rng, body.toString('latin1'))
      body = m.body
      labels.push(m.label)
    }
  }
  const gzip = rng.bool(0.2)
  if (gzip) {
    body = gzipSync(body)
    labels.push('gzip')
    if (rng.bool(0.05)) {
      const m = mutateBytes(rng, body)
      body = m.body
      labels.push(`gzip+${m.label}`)
    }
  }
  const abort = rng.bool(opts.abortRate ?? 0)
  if (abort) labels.push('abortMidBody')
  return { seed, index, format, gzip, body, labels, ...(abort ? { abortAfterBytes: Math.floor(body.length / 2) } : {}) }
}

/** How to rerun one case: SPANLENS_FUZZ_SEED=<seed> and the case index. */
export const caseName = (c: Pick<FuzzCase, 'seed' | 'index' | 'format' | 'labels'>): string =>
  `seed=${c.seed} case=${c.index} ${c.format} [${c.labels.join(', ') || 'valid'}]`
