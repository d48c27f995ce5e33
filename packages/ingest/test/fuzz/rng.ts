/**
 * A small seeded PRNG (mulberry32) so every fuzz case is a pure function of
 * (seed, case index): a failure prints both and reruns bit for bit.
 */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A generator for case `index` of a campaign seeded with `seed`. */
  static forCase(seed: number, index: number): Rng {
    // Spread (seed, index) so neighbouring cases do not share a prefix of draws.
    return new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35))
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  bool(p = 0.5): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(0, items.length - 1)] as T
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((s, [w]) => s + w, 0)
    let r = this.next() * total
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v
    }
    return (items[items.length - 1] as readonly [number, T])[1]
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255)
    return b
  }

  /** Unsigned 64-bit. */
  u64(): bigint {
    return (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff))
  }
}

/** The campaign seed: SPANLENS_FUZZ_SEED when set (decimal or 0x hex), else `fallback`. */
export function seedFromEnv(env: NodeJS.ProcessEnv, fallback: number, name = 'SPANLENS_FUZZ_SEED'): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback >>> 0
  const n = Number(raw.trim())
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${name}: expected an integer 0..4294967295, got ${JSON.stringify(raw)}`)
  return n >>> 0
}

export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, got ${JSON.stringify(raw)}`)
  return n
}
