/**
 * What decoding a `Content-Encoding: zstd` body costs the server's event loop
 * (http/zstd.ts: fzstd, pure JavaScript; Node 20's zlib has no zstd), against
 * gunzip of the same request: the ingest bench's 100-span request (payload.ts),
 * compressed by the zstd CLI at level 3 (needs `zstd` on the PATH) and by zlib's
 * gzip at its default level. µs per request, after 50 unmeasured decodes.
 *
 *   cd bench && node --conditions=@spanlens/source --import tsx ingest/zstd-decode.ts [decodes] [rounds]
 */
import { execFileSync } from 'node:child_process'
import { gunzipSync, gzipSync } from 'node:zlib'
import { decompressZstd } from '../../packages/ingest/src/http/zstd.js'
import { createPayloadFactory } from './payload.js'

const DECODES = Number(process.argv[2] ?? 500)
const ROUNDS = Number(process.argv[3] ?? 3)
const body = createPayloadFactory(100).next()
const zstd = execFileSync('zstd', ['-3', '-c', '-'], { input: body })
const gzip = gzipSync(body)
if (!decompressZstd(zstd, body.length).equals(body)) throw new Error('zstd round trip differs')
const perDecode = (decode: () => unknown): number => {
  for (let i = 0; i < 50; i++) decode()
  const t = process.hrtime.bigint()
  for (let i = 0; i < DECODES; i++) decode()
  return Number(process.hrtime.bigint() - t) / DECODES / 1000
}
console.log(`command: cd bench && node --conditions=@spanlens/source --import tsx ingest/zstd-decode.ts ${DECODES} ${ROUNDS}`)
console.log(`body ${body.length} bytes; zstd -3: ${zstd.length}, gzip: ${gzip.length}`)
console.log('| round | zstd, µs per request | gunzip | ratio |')
console.log('|---|---:|---:|---:|')
for (let r = 1; r <= ROUNDS; r++) {
  const z = perDecode(() => decompressZstd(zstd, 64 * 1024 * 1024))
  const g = perDecode(() => gunzipSync(gzip))
  console.log(`| ${r} | ${z.toFixed(0)} | ${g.toFixed(0)} | ${(z / g).toFixed(1)} |`)
}
