import { deflateSync, gzipSync } from 'node:zlib'
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
  /** How the body is compressed (what the oracle undoes), and the headers that say so, spelled as drawn. */
  compression: 'none' | 'gzip' | 'deflate'
  headers: { 'content-type': string; 'content-encoding'?: string }
  body: Buffer
  /** What was done to the valid request, in order: the case's name in failure messages. */
  labels: string[]
  /** Send this many bytes of the body and then drop the connection (a client that dies mid-upload). */
  abortAfterBytes?: number
}

export const CONTENT_TYPE: Record<Format, string> = { protobuf: 'application/x-protobuf', json: 'application/json' }
/** Other ways to write the same media type; and a few that name another. */
const TYPE_SPELLINGS: Record<Format, readonly string[]> = {
  protobuf: ['application/protobuf', 'Application/X-Protobuf', 'application/x-protobuf; charset=binary', 'application/x-protobuf;', 'application/json', 'application/grpc'],
  json: ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=latin1', 'application/json ; q=1', 'application/x-protobuf', 'text/json'],
}
const ENCODING_SPELLINGS: Record<'none' | 'gzip' | 'deflate', readonly string[]> = {
  none: ['identity', 'IDENTITY', '', 'br', 'compress', 'gzip', 'deflate'],
  gzip: ['GZIP', 'x-gzip', ' gzip ', 'gzip, identity', 'identity', 'deflate'],
  deflate: ['DEFLATE', 'deflate, identity', 'gzip', 'identity'],
}

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
  const compression = rng.weighted<'none' | 'gzip' | 'deflate'>([[15, 'none'], [4, 'gzip'], [1, 'deflate']])
  if (compression !== 'none') {
    body = compression === 'gzip' ? gzipSync(body) : deflateSync(body)
    labels.push(compression)
    if (rng.bool(0.05)) {
      const m = mutateBytes(rng, body)
      body = m.body
      labels.push(`${compression}+${m.label}`)
    }
  }
  const headers: FuzzCase['headers'] = { 'content-type': CONTENT_TYPE[format], ...(compression !== 'none' ? { 'content-encoding': compression } : {}) }
  if (rng.bool(0.06)) {
    headers['content-type'] = rng.pick(TYPE_SPELLINGS[format])
    labels.push(`contentType(${headers['content-type']})`)
  }
  if (rng.bool(0.04)) {
    headers['content-encoding'] = rng.pick(ENCODING_SPELLINGS[compression])
    labels.push(`contentEncoding(${JSON.stringify(headers['content-encoding'])})`)
  }
  const abort = rng.bool(opts.abortRate ?? 0)
  if (abort) labels.push('abortMidBody')
  return { seed, index, format, compression, headers, body, labels, ...(abort ? { abortAfterBytes: Math.floor(body.length / 2) } : {}) }
}

/** How to rerun one case: SPANLENS_FUZZ_SEED=<seed> and the case index. */
export const caseName = (c: Pick<FuzzCase, 'seed' | 'index' | 'format' | 'labels'>): string =>
  `seed=${c.seed} case=${c.index} ${c.format} [${c.labels.join(', ') || 'valid'}]`
