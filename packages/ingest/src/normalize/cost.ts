import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { errors } from '../errors.js'
import { DEFAULT_PRICES, type ModelPrice } from './prices.js'

// Strict: a misspelt price (`cached_input`) would be dropped, and those tokens priced at another rate unsaid.
const priceSchema = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
    cacheWrite: z.number().nonnegative().optional(),
  })
  .strict()
const fileSchema = z.object({ models: z.record(z.string(), priceSchema) }).strict()

export interface Usage {
  input: number
  output: number
  cacheRead: number
  cacheWrite: number
}

/**
 * What may follow a table entry in a model id and still name that entry's model at its
 * price: the providers' pins of one model, not the names of other models. A date
 * (-2024-08-06 OpenAI, -20241022 Anthropic, @20241022 Vertex AI), four digits (-0613
 * OpenAI, -2411 Mistral), three (-002 Gemini) or -latest, then optionally Bedrock's
 * version (-v1:0, -v2:0). Anything else (-pro, -32k, -instruct, -realtime-preview,
 * -mini, .5) names another model: it gets a price only from an entry of its own, or none.
 */
const SNAPSHOT = /^(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8}|-\d{4}|-\d{3}|-latest)?(?:-v\d+:\d+)?$/

export class PriceTable {
  private readonly exact = new Map<string, ModelPrice>()
  /** Longest first: a snapshot of gpt-4o-mini is gpt-4o-mini's; a dated entry (gpt-4o-2024-05-13) is its own. */
  private readonly prefixes: Array<[string, ModelPrice]>
  private readonly memo = new Map<string, ModelPrice | null>()

  constructor(prices: Record<string, ModelPrice>) {
    for (const [model, price] of Object.entries(prices)) this.exact.set(model.toLowerCase(), price)
    this.prefixes = [...this.exact.entries()].sort((a, b) => b[0].length - a[0].length)
  }

  static load(file?: string): PriceTable {
    if (!file) return new PriceTable(DEFAULT_PRICES)
    let data: unknown
    try {
      const text = readFileSync(file, 'utf8')
      data = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text)
    } catch (err) {
      throw errors.CONFIG_FILE_UNREADABLE(file, (err as Error).message, { cause: err })
    }
    const parsed = fileSchema.safeParse(data)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw errors.CONFIG_INVALID(
        `SPANLENS_PRICES_FILE (${file}): ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}; expected { models: { "<model>": { input, output, cachedInput?, cacheWrite? } } } in USD per million tokens`,
      )
    }
    return new PriceTable({ ...DEFAULT_PRICES, ...parsed.data.models })
  }

  lookup(model: string): ModelPrice | undefined {
    if (model === '') return undefined
    const cached = this.memo.get(model)
    if (cached !== undefined) return cached ?? undefined
    const found = this.find(model)
    if (this.memo.size < 10_000) this.memo.set(model, found ?? null)
    return found
  }

  private find(model: string): ModelPrice | undefined {
    // "openai/gpt-4o", "models/gemini-2.0-flash", "us.anthropic.claude-3-5-sonnet-v2:0"
    let m = model.toLowerCase().trim()
    const slash = m.lastIndexOf('/')
    if (slash >= 0) m = m.slice(slash + 1)
    m = m.replace(/^(us|eu|apac)\./, '').replace(/^(anthropic|meta|mistral|cohere|amazon)\./, '')
    const exact = this.exact.get(m)
    if (exact) return exact
    for (const [prefix, price] of this.prefixes) {
      if (m.startsWith(prefix) && SNAPSHOT.test(m.slice(prefix.length))) return price
    }
    return undefined
  }

  /**
   * Cost in USD, or null when the model is unknown or the call reported no usage:
   * unknown is not zero. Input tokens include cached ones (OpenTelemetry GenAI
   * semantics), so cache reads and writes are priced separately from the rest.
   */
  cost(models: string[], usage: Usage): number | null {
    if (usage.input === 0 && usage.output === 0) return null
    let price: ModelPrice | undefined
    for (const m of models) {
      price = this.lookup(m)
      if (price) break
    }
    if (!price) return null
    const cacheRead = Math.min(usage.cacheRead, usage.input)
    const cacheWrite = Math.min(usage.cacheWrite, usage.input - cacheRead)
    const fresh = usage.input - cacheRead - cacheWrite
    const total =
      fresh * price.input +
      cacheRead * (price.cachedInput ?? price.input) +
      cacheWrite * (price.cacheWrite ?? price.input) +
      usage.output * price.output
    return Math.round((total / 1e6) * 1e10) / 1e10
  }
}
