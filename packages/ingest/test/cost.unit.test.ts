import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { span } from './helpers/otlp-span.js'
import { tempDir } from './helpers/tmp.js'

describe('cost', () => {
  const prices = PriceTable.load()

  it('prices by exact name, dated snapshot and provider-prefixed ids, longest prefix first', () => {
    const usage = { input: 1_000_000, output: 1_000_000, cacheRead: 0, cacheWrite: 0 }
    expect(prices.cost(['gpt-4o-mini'], usage)).toBeCloseTo(0.75)
    expect(prices.cost(['gpt-4o-mini-2024-07-18'], usage)).toBeCloseTo(0.75)
    expect(prices.cost(['gpt-4o-2024-08-06'], usage)).toBeCloseTo(12.5)
    expect(prices.cost(['openai/gpt-4o'], usage)).toBeCloseTo(12.5)
    expect(prices.cost(['claude-sonnet-4-5-20250929'], usage)).toBeCloseTo(18)
    expect(prices.cost(['models/gemini-2.0-flash'], usage)).toBeCloseTo(0.5)
  })

  it('unknown model or no usage is null, not zero', () => {
    expect(prices.cost(['my-finetune-v3'], { input: 10, output: 10, cacheRead: 0, cacheWrite: 0 })).toBeNull()
    expect(prices.cost(['gpt-4o'], { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeNull()
    expect(prices.cost(['', ''], { input: 10, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeNull()
  })

  it('prices cache reads and writes separately from fresh input', () => {
    // claude-sonnet-4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million
    const c = prices.cost(['claude-sonnet-4'], { input: 1_000_000, output: 0, cacheRead: 400_000, cacheWrite: 100_000 })
    expect(c).toBeCloseTo(0.5 * 3 + 0.4 * 0.3 + 0.1 * 3.75)
  })

  it('a prices file overrides and extends the table; a bad one names the variable', () => {
    const dir = tempDir()
    try {
      const file = join(dir.path, 'prices.yaml')
      writeFileSync(file, 'models:\n  my-finetune: { input: 1, output: 2 }\n  gpt-4o: { input: 100, output: 100 }\n')
      const custom = PriceTable.load(file)
      expect(custom.cost(['my-finetune-2026-01-31'], { input: 1e6, output: 1e6, cacheRead: 0, cacheWrite: 0 })).toBeCloseTo(3)
      expect(custom.cost(['my-finetune-v3'], { input: 1e6, output: 1e6, cacheRead: 0, cacheWrite: 0 })).toBeNull()
      expect(custom.cost(['gpt-4o'], { input: 1e6, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeCloseTo(100)
      writeFileSync(file, 'models:\n  x: { input: -1, output: 2 }\n')
      expect(() => PriceTable.load(file)).toThrow(/SPANLENS_PRICES_FILE/)
      // A misspelt price is refused, naming it, not dropped (cache reads would be priced at another rate).
      writeFileSync(file, 'models:\n  my-finetune: { input: 1, output: 2, cached_input: 0.1 }\n')
      expect(() => PriceTable.load(file)).toThrow(/SPANLENS_PRICES_FILE .*models\.my-finetune: .*cached_input/)
      writeFileSync(file, 'models:\n  my-finetune: { input: 1, output: 2 }\nmodel:\n  other: { input: 1, output: 2 }\n')
      expect(() => PriceTable.load(file)).toThrow(/SPANLENS_PRICES_FILE .*"model"/)
    } finally {
      dir.cleanup()
    }
  })

  it('the normalizer stores cost only for model calls', () => {
    const llm = normalizeSpan(span({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.operation.name': 'chat' }), 'p', { prices })
    expect(llm.cost_usd).toBeCloseTo(0.0025)
    const chain = normalizeSpan(span({ 'traceloop.span.kind': 'workflow', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.request.model': 'gpt-4o' }), 'p', { prices })
    expect(chain.kind).toBe('chain')
    expect(chain.cost_usd).toBeNull()
  })
})
