import { describe, expect, it } from 'vitest'
import { parseScoreValue, scoreText } from '../web/src/trace/score-value.js'

const stored = (dataType: string, value: number | null, stringValue = '') => ({ dataType, value, stringValue })

describe('score values in the console', () => {
  it('shows a yes/no score as true or false, a label as itself and a number as a number', () => {
    expect(scoreText(stored('BOOLEAN', 1))).toBe('true')
    expect(scoreText(stored('BOOLEAN', 0))).toBe('false')
    expect(scoreText(stored('CATEGORICAL', null, '42'))).toBe('42')
    expect(scoreText(stored('NUMERIC', 0.8))).toBe('0.8')
  })

  it('posts an edited score in its own type', () => {
    expect(parseScoreValue('true', 'BOOLEAN')).toEqual({ value: true })
    expect(parseScoreValue(' FALSE ', 'BOOLEAN')).toEqual({ value: false })
    expect(parseScoreValue('1', 'BOOLEAN')).toEqual({ value: true })
    expect(parseScoreValue('0', 'BOOLEAN')).toEqual({ value: false })
    expect(parseScoreValue('42', 'CATEGORICAL')).toEqual({ value: '42' })
    expect(parseScoreValue('true', 'CATEGORICAL')).toEqual({ value: 'true' })
    expect(parseScoreValue('1e3', 'NUMERIC')).toEqual({ value: 1000 })
  })

  it('refuses a value the edited score cannot hold, saying what it takes', () => {
    expect(parseScoreValue('maybe', 'BOOLEAN')).toEqual({ error: expect.stringContaining('true or false') })
    expect(parseScoreValue('0.5', 'BOOLEAN')).toEqual({ error: expect.stringContaining('true or false') })
    expect(parseScoreValue('good', 'NUMERIC')).toEqual({ error: expect.stringContaining('a number') })
    expect(parseScoreValue('Infinity', 'NUMERIC')).toEqual({ error: expect.stringContaining('a number') })
  })

  it('reads a new score as a number, a boolean or a label', () => {
    expect(parseScoreValue('0.5')).toEqual({ value: 0.5 })
    expect(parseScoreValue('True')).toEqual({ value: true })
    expect(parseScoreValue('false')).toEqual({ value: false })
    expect(parseScoreValue('friendly')).toEqual({ value: 'friendly' })
  })

  it('round-trips every stored value through the editor unchanged', () => {
    for (const s of [stored('BOOLEAN', 1), stored('BOOLEAN', 0), stored('NUMERIC', -2.5), stored('NUMERIC', 0), stored('CATEGORICAL', null, '7'), stored('CATEGORICAL', null, 'no')]) {
      const back = parseScoreValue(scoreText(s), s.dataType)
      expect(back).toEqual({ value: s.dataType === 'BOOLEAN' ? s.value === 1 : s.dataType === 'NUMERIC' ? s.value : s.stringValue })
    }
  })
})
