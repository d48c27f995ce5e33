import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ALERT_RULES, loadSloFile, parseSloText } from '../src/index.js'

describe('SLO burn rates and alerts', () => {
  it('the alert rules are the SRE Workbook table: budget share burned in the long window of a 30-day period', () => {
    const consumed = ALERT_RULES.map((r) => (r.factor * { '1h': 1, '6h': 6, '1d': 24, '3d': 72 }[r.longWindow]) / (30 * 24))
    // 2% in 1 h, 5% in 6 h, 10% in 1 d, 10% in 3 d
    expect(consumed.map((c) => Number(c.toFixed(4)))).toEqual([0.02, 0.05, 0.1, 0.1])
    expect(ALERT_RULES.map((r) => [r.severity, r.shortWindow])).toEqual([
      ['page', '5m'],
      ['page', '30m'],
      ['ticket', '2h'],
      ['ticket', '6h'],
    ])
  })
})

describe('SLO file', () => {
  it('accepts JSON as well as YAML', () => {
    const slos = parseSloText(JSON.stringify([{ name: 'a', objective: 0.995, indicator: { type: 'ttft', thresholdMs: 500 } }]))
    expect(slos[0]).toMatchObject({ name: 'a', objective: 0.995, window: '30d' })
  })

  it('rejects an invalid file with SPANLENS_SLO_FILE_INVALID', () => {
    const path = join(tmpdir(), `slo-${process.pid}.yaml`)
    writeFileSync(path, 'slos:\n  - name: x\n    objective: 120\n    indicator: { type: latency }\n')
    try {
      expect(() => loadSloFile(path)).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID' }))
    } finally {
      rmSync(path, { force: true })
    }
    expect(() => loadSloFile('/nonexistent/slo.yaml')).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID' }))
  })

  it.each(['0d', '0m', '00h', '30', 'd', '1.5d', '-1d'])('refuses the window %j, naming the SLO and the field', (window) => {
    const text = `slos:\n  - name: checkout\n    objective: 99\n    window: "${window}"\n    indicator: { type: success }\n`
    expect(() => parseSloText(text)).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining('slos[0].window: expected a rolling window longer than zero') }))
  })

  it('refuses objective 1, which reads as 100% or as 1%; takes a percent above it and a fraction below it', () => {
    const slo = (objective: number) => `slos:\n  - name: a\n    objective: ${objective}\n    indicator: { type: success }\n`
    expect(() => parseSloText(slo(1))).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining('objective 1 is ambiguous') }))
    expect(parseSloText(slo(1.5))[0]?.objective).toBeCloseTo(0.015, 12)
    expect(parseSloText(slo(0.999))[0]?.objective).toBe(0.999)
    expect(parseSloText(slo(99.9))[0]?.objective).toBeCloseTo(0.999, 12)
  })

  it('refuses a ratio SLO whose filter names a status spans never have (it would count nothing bad, an SLI of 100%)', () => {
    const text = `slos:\n  - name: tools\n    objective: 99\n    indicator: { type: ratio, total: { kind: tool }, good: { kind: tool, not: { status: erorr } } }\n`
    expect(() => parseSloText(text)).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining('slos[0].indicator.good.not.status[0]: expected one of') }))
    expect(parseSloText(text.replace('erorr', 'error'))[0]?.name).toBe('tools')
  })

  it('names the field that is wrong in either form of the file, not only "Invalid input"', () => {
    const list = `- name: x\n  objective: 99\n  indicator: { type: latncy, thresholdMs: 5 }\n`
    expect(() => parseSloText(list)).toThrow(expect.objectContaining({ message: expect.stringMatching(/: \[0\]\.indicator\.type: .*Expected 'success' \| 'latency'/) }))
    expect(() => parseSloText(`slos:\n${list.replace(/^/gm, '  ')}`)).toThrow(expect.objectContaining({ message: expect.stringContaining(': slos[0].indicator.type: ') }))
  })

  it("says what is wrong with a field in words of its own, not zod's (an empty key, a missing field)", () => {
    const ratio = `slos:\n  - name: a\n    objective: 99\n    indicator: { type: ratio, total: { kind: llm }, good: { kind: llm, scores: { "": x } } }\n`
    expect(() => parseSloText(ratio)).toThrow(expect.objectContaining({ message: expect.stringContaining(': slos[0].indicator.good.scores.: the key must not be empty') }))
    expect(() => parseSloText('slos:\n  - objective: 99\n    indicator: { type: success }\n')).toThrow(expect.objectContaining({ message: expect.stringContaining(': slos[0].name: required') }))
  })

  it.each([['service: ""', 'slos[0].service'], ['model: []', 'slos[0].model'], ['environment: ["prod", ""]', 'slos[0].environment']])('refuses an empty scope (%s): "" scoped the SLO to no span, [] to every span', (scope, field) => {
    const text = `slos:\n  - name: a\n    objective: 99\n    ${scope}\n    indicator: { type: success }\n`
    expect(() => parseSloText(text)).toThrow(expect.objectContaining({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining(`: ${field}`) }))
  })

  it.each(['1m', '7d', '4w', '030d'])('takes the window %j', (window) => {
    expect(parseSloText(`slos:\n  - name: a\n    objective: 99\n    window: "${window}"\n    indicator: { type: success }\n`)[0]?.window).toBe(window)
  })
})
