import { readFileSync, statSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { errors } from '../errors.js'
import { spanFilterSchema } from '../filters.js'
import { invalidFields } from '../params.js'
import { parseDuration } from '../time.js'

/** A value or a list of them, none empty: "" would scope the SLO to no span (reported met), [] to every span. */
const list = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]))
const filterNoTime = spanFilterSchema.omit({ from: true, to: true })

const indicatorSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('success') }).strict(),
  z.object({ type: z.literal('latency'), thresholdMs: z.number().positive() }).strict(),
  z.object({ type: z.literal('ttft'), thresholdMs: z.number().positive() }).strict(),
  z.object({ type: z.literal('ratio'), good: filterNoTime, total: filterNoTime }).strict(),
])

const sloSchema = z
  .object({
    name: z.string().trim().min(1),
    description: z.string().optional(),
    service: list.optional(),
    model: list.optional(),
    environment: list.optional(),
    kind: spanFilterSchema.shape.kind,
    operation: list.optional(),
    /** percent (99.9) or fraction (0.999) */
    objective: z
      .number()
      .gt(0)
      .lt(100)
      // Exactly 1 reads as either: 100% as a fraction (no error budget) or 1% as a percent (no one's objective).
      .refine((v) => v !== 1, { error: 'objective 1 is ambiguous: write a percent above 1 (99.9) or a fraction below 1 (0.999)' })
      .transform((v) => (v > 1 ? v / 100 : v))
      .refine((v) => v < 1, { error: 'objective must be below 100%' }),
    window: z
      .string()
      .default('30d')
      // A window of zero held no events and read as an untouched budget with every alert firing.
      .refine((v) => /^0*[1-9]\d*[mhdw]$/.test(v), { error: 'expected a rolling window longer than zero, such as 28d or 30d' }),
    indicator: indicatorSchema,
  })
  .strict()

/**
 * A file is `{slos: [...]}` or the list alone. Picked by its shape, not as a union: a union
 * that fails both ways says only "Invalid input", not which field of which SLO is wrong.
 */
const sloFileSchema = z.object({ version: z.number().optional(), slos: z.array(sloSchema).min(1) }).strict()
const sloListSchema = z.array(sloSchema).min(1)

export type SloDefinition = z.output<typeof sloSchema>

/** Parses YAML or JSON text (JSON is YAML) into validated SLO definitions. */
export function parseSloText(text: string, path = '<inline>'): SloDefinition[] {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    throw errors.SLO_FILE_INVALID(path, (err as Error).message, { cause: err })
  }
  const parsed = Array.isArray(raw) ? sloListSchema.safeParse(raw) : sloFileSchema.safeParse(raw)
  if (!parsed.success) throw errors.SLO_FILE_INVALID(path, invalidFields(parsed.error).message)
  const slos = Array.isArray(parsed.data) ? parsed.data : parsed.data.slos
  const names = new Set<string>()
  for (const s of slos) {
    if (names.has(s.name)) throw errors.SLO_FILE_INVALID(path, `duplicate SLO name "${s.name}"`)
    names.add(s.name)
    parseDuration(s.window, `${s.name}.window`)
  }
  return slos
}

const cache = new Map<string, { mtimeMs: number; slos: SloDefinition[] }>()

/** Reads the SLO file, re-reading only when it changed (edit it without restarting). */
export function loadSloFile(path: string): SloDefinition[] {
  let mtimeMs: number
  let text: string
  try {
    mtimeMs = statSync(path).mtimeMs
    const hit = cache.get(path)
    if (hit && hit.mtimeMs === mtimeMs) return hit.slos
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw errors.SLO_FILE_INVALID(path, (err as Error).message, { cause: err })
  }
  const slos = parseSloText(text, path)
  cache.set(path, { mtimeMs, slos })
  return slos
}
