import type { Rng } from './rng.js'
import { cloneFields, encodeMessage, fixed32, fixed64, varint, walk, type WireField } from './wire.js'

/**
 * Mutations of the protobuf encoding itself: the tree is edited (lengths that lie,
 * wire types swapped, fields repeated or unknown, overlong varints) and the bytes
 * after it (bit flips, truncation, appended garbage).
 */
export type TreeMutation = (rng: Rng, tree: WireField[]) => string
export type BytesMutation = (rng: Rng, body: Buffer) => { body: Buffer; label: string }

function fieldsWhere(tree: WireField[], pred: (f: WireField) => boolean): Array<{ f: WireField; parent: WireField[] }> {
  const out: Array<{ f: WireField; parent: WireField[] }> = []
  walk(tree, (f, parent) => {
    if (pred(f)) out.push({ f, parent })
  })
  return out
}

const describe = (f: WireField) => `${f.tag ?? `#${f.no}`}`

export const TREE_MUTATIONS: Record<string, TreeMutation> = {
  lengthLie(rng, tree) {
    const all = fieldsWhere(tree, (f) => f.wt === 2)
    if (all.length === 0) return 'lengthLie(none)'
    const { f } = rng.pick(all)
    const len = BigInt(Array.isArray(f.v) ? encodeMessage(f.v).length : (f.v as Buffer).length)
    const lie = rng.pick([len + 1n, len - 1n, len + 1000n, 0n, 1n << 31n, (1n << 32n) + len, (1n << 63n) - 1n, (1n << 64n) - 1n])
    f.lengthOverride = lie < 0n ? 0n : lie
    return `lengthLie(${describe(f)} ${len}→${f.lengthOverride})`
  },
  overlongVarint(rng, tree) {
    const all = fieldsWhere(tree, (f) => f.wt === 0 || f.wt === 2)
    if (all.length === 0) return 'overlongVarint(none)'
    const { f } = rng.pick(all)
    f.varintPad = rng.pick([1, 3, 9, 12])
    return `overlongVarint(${describe(f)} +${f.varintPad})`
  },
  wireTypeSwap(rng, tree) {
    const all = fieldsWhere(tree, () => true)
    if (all.length === 0) return 'wireTypeSwap(none)'
    const { f } = rng.pick(all)
    const from = f.wt
    const to = rng.pick([0, 1, 2, 5, 3, 4].filter((w) => w !== from)) as WireField['wt']
    const raw = Array.isArray(f.v) ? encodeMessage(f.v) : typeof f.v === 'bigint' ? fixed64(f.v) : f.v
    f.wt = to
    if (to === 0) f.v = BigInt(raw.length > 0 ? (raw[0] as number) : 0)
    else if (to === 1) f.v = Buffer.concat([raw, Buffer.alloc(8)]).subarray(0, 8)
    else if (to === 5) f.v = Buffer.concat([raw, Buffer.alloc(4)]).subarray(0, 4)
    else if (to === 2) f.v = raw
    else if (to === 3) f.v = []
    return `wireTypeSwap(${describe(f)} ${from}→${to})`
  },
  repeatScalar(rng, tree) {
    const all = fieldsWhere(tree, (f) => !Array.isArray(f.v) && (f.tag ?? '').startsWith('span.'))
    if (all.length === 0) return 'repeatScalar(none)'
    const { f, parent } = rng.pick(all)
    const copy: WireField = { ...f }
    if (f.wt === 1) copy.v = fixed64(rng.u64())
    else if (f.wt === 0) copy.v = BigInt(rng.int(0, 1000))
    else if (f.wt === 2) copy.v = rng.bool() ? Buffer.alloc(0) : rng.bytes((f.v as Buffer).length)
    const at = parent.indexOf(f)
    parent.splice(rng.bool() ? parent.length : at + 1, 0, copy)
    return `repeatScalar(${describe(f)})`
  },
  unknownField(rng, tree) {
    const msgs = fieldsWhere(tree, (f) => Array.isArray(f.v))
    const target = msgs.length > 0 && rng.bool(0.8) ? (rng.pick(msgs).f.v as WireField[]) : tree
    const no = rng.pick([17, 99, 1000, 19_000, 536_870_911])
    const wt = rng.pick([0, 1, 2, 5, 3] as const)
    const v = wt === 0 ? rng.u64() : wt === 1 ? fixed64(rng.u64()) : wt === 5 ? fixed32(rng.int(0, 0xffffffff)) : wt === 2 ? rng.bytes(rng.int(0, 40)) : []
    target.splice(rng.int(0, target.length), 0, { no, wt, v })
    return `unknownField(#${no} wt${wt})`
  },
  fieldZero(rng, tree) {
    const msgs = fieldsWhere(tree, (f) => Array.isArray(f.v))
    const target = msgs.length > 0 ? (rng.pick(msgs).f.v as WireField[]) : tree
    target.unshift({ no: 0, wt: 0, v: 1n })
    return 'fieldZero'
  },
  lonelyGroupEnd(rng, tree) {
    const msgs = fieldsWhere(tree, (f) => Array.isArray(f.v))
    const target = msgs.length > 0 ? (rng.pick(msgs).f.v as WireField[]) : tree
    target.push({ no: rng.int(1, 20), wt: 4, v: 0n })
    return 'lonelyGroupEnd'
  },
  dropField(rng, tree) {
    const all = fieldsWhere(tree, (f) => (f.tag ?? '').startsWith('span.'))
    if (all.length === 0) return 'dropField(none)'
    const { f, parent } = rng.pick(all)
    parent.splice(parent.indexOf(f), 1)
    return `dropField(${describe(f)})`
  },
}

export const BYTES_MUTATIONS: Record<string, BytesMutation> = {
  bitFlips(rng, body) {
    const out = Buffer.from(body)
    const n = rng.pick([1, 1, 2, 4, 16])
    for (let k = 0; k < n && out.length > 0; k++) {
      const at = rng.int(0, out.length - 1)
      out[at] = (out[at] as number) ^ (1 << rng.int(0, 7))
    }
    return { body: out, label: `bitFlips(${n})` }
  },
  truncate(rng, body) {
    const at = body.length === 0 ? 0 : rng.int(0, body.length - 1)
    return { body: body.subarray(0, at), label: `truncate(${at}/${body.length})` }
  },
  appendGarbage(rng, body) {
    const tail = rng.pick([Buffer.from([0xff]), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), rng.bytes(rng.int(1, 64)), varint((1n << 64n) - 1n)])
    return { body: Buffer.concat([body, tail]), label: `appendGarbage(${tail.length})` }
  },
  randomBytes(rng) {
    const n = rng.int(0, 200)
    return { body: rng.bytes(n), label: `randomBytes(${n})` }
  },
}

export function mutateTree(rng: Rng, tree: WireField[]): { tree: WireField[]; label: string } {
  const copy = cloneFields(tree)
  const name = rng.pick(Object.keys(TREE_MUTATIONS))
  return { tree: copy, label: (TREE_MUTATIONS[name] as TreeMutation)(rng, copy) }
}

export function mutateBytes(rng: Rng, body: Buffer): { body: Buffer; label: string } {
  const name = rng.weighted<string>([[6, 'bitFlips'], [3, 'truncate'], [2, 'appendGarbage'], [1, 'randomBytes']])
  return (BYTES_MUTATIONS[name] as BytesMutation)(rng, body)
}
