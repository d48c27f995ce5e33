import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { parseCliArgs } from '@spanlens/query/cli-args'
import type { SpanlensConfig } from '../config/load.js'
import { errors } from '../errors.js'
import { type DeadLetter, DeadLetters, targetOf } from '../pipeline/dead-letter.js'
import { describeInsertFailure, failureText, isStoreFailure } from '../pipeline/insert-errors.js'
import { insertIsolated } from '../pipeline/isolating-insert.js'
import { restoreMissing } from '../pipeline/stored-rows.js'
import { readFailingSegments, secondsFailing } from '../pipeline/failing-segments.js'
import { setAsideSegment } from '../pipeline/set-aside.js'
import { createStore, migrate, type Store } from '../store/index.js'

const DEAD_LETTER_USAGE = `usage: spanlens dead-letter <list | show <name> | replay [<name>...] | drop <name> | stuck | set-aside <segment>>

Rows ClickHouse refused after they were acknowledged, kept in <spool>/dead with
ClickHouse's reason (docs/ingest.md, "Dead letters").

  list             every letter: rows, projects, first reason
  show <name>      each row's project and reason, and where the rows are on disk
  replay [<name>]  insert the rows again (all letters if none is named), e.g. after
                   a schema fix; rows refused again stay, with the new reason.
                   Embedded ClickHouse: stop the server first (one process per data directory).
                   Exit status 3: rows were refused again; 4: ClickHouse failed for its own
                   reasons (down, busy, or refusing every row alike), and the letter it was
                   on and those after it are kept as they were: run it again later.
  drop <name>      delete a letter once you have what you need from it
  stuck            spool segments whose inserts are failing: since when, how many
                   attempts, the last error (as the server last wrote them)
  set-aside <segment>
                   move a failing segment's rows into a letter, with its last error as
                   the reason, for one no retry inserts; replay it later like any letter.
                   Only with the server stopped: refused (SPANLENS_SPOOL_IN_USE) while a
                   server holds the spool; a running server does it on its admin route
                   (POST /api/v1/admin/spool/set-aside, SPANLENS_ADMIN_KEY).

It takes no options but -h/--help.`

interface Output {
  out: (line: string) => void
  /** Usage errors; \`out\` when not given. */
  err?: (line: string) => void
}

/** How many names each subcommand takes, at least and at most. */
const ARITY: Record<string, [min: number, max: number]> = { list: [0, 0], show: [1, 1], drop: [1, 1], replay: [0, Infinity], stuck: [0, 0], 'set-aside': [1, 1] }

/** `spanlens dead-letter ...`; returns the exit code. `openStore` is the store a replay inserts into. */
export async function runDeadLetter(
  args: string[],
  configOrLoad: SpanlensConfig | (() => SpanlensConfig),
  io: Output,
  openStore: (config: SpanlensConfig['store']) => Promise<Store> = createStore,
): Promise<number> {
  const usageError = (message: string) => {
    ;(io.err ?? io.out)(`spanlens dead-letter: ${message}\n${DEAD_LETTER_USAGE}`)
    return 1
  }
  let parsed
  try {
    // Strict: an unknown option (--json, --bogus) is refused, not read as a letter's name or ignored.
    parsed = parseCliArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true })
  } catch (err) {
    return usageError((err as Error).message)
  }
  const [sub, ...names] = parsed.positionals
  if (parsed.values.help || sub === 'help') {
    io.out(DEAD_LETTER_USAGE)
    return 0
  }
  const arity = ARITY[sub ?? 'list']
  if (arity === undefined) return usageError(`unknown subcommand ${JSON.stringify(sub)}`)
  if ((sub === 'show' || sub === 'drop') && names.length === 0) {
    // Named, not looked up: an empty name would read as a letter that does not exist.
    io.out(`spanlens dead-letter ${sub} needs a letter's name; \`spanlens dead-letter list\` shows them`)
    return 1
  }
  if (sub === 'set-aside' && names.length === 0) {
    io.out("spanlens dead-letter set-aside needs a segment's name; `spanlens dead-letter stuck` shows the failing ones")
    return 1
  }
  if (names.length > arity[1]) return usageError(`unexpected argument ${JSON.stringify(names[arity[1]])}`)
  const config = typeof configOrLoad === 'function' ? configOrLoad() : configOrLoad
  const letters = new DeadLetters(join(config.ingest.spoolDir, 'dead'))
  switch (sub) {
    case 'list':
    case undefined: {
      const all = letters.list()
      const stats = letters.stats()
      if (all.length === 0) io.out('no dead letters')
      for (const l of all) {
        const projects = Object.entries(count(l.meta.rows.map((r) => r.project)))
          .map(([p, n]) => `${p}:${n}`)
          .join(' ')
        io.out(`${l.name}\t${l.meta.rows.length} rows\t${projects}\t${l.meta.rows[0]?.reason ?? ''}`)
      }
      if (stats.unreadableSegments > 0) {
        io.out(`${stats.unreadableSegments} whole segment(s) set aside unread (a format this version does not read, or a column line naming columns the table lacks): ${letters.dir}/*.seg`)
      }
      if (stats.damagedSegments > 0) {
        io.out(`${stats.damagedSegments} segment(s) found damaged at start, ${stats.rowsLost} acknowledged row(s) lost; originals and notes: ${letters.dir}/*.damaged, *.damaged.json`)
      }
      return 0
    }
    case 'show': {
      const letter = letters.list().find((l) => l.name === names[0])
      if (!letter) throw errors.DEAD_LETTER_UNKNOWN(String(names[0] ?? ''))
      io.out(`rows: ${join(letters.dir, `${letter.name}.dead.rows`)} (${targetOf(letter).table}, ${letter.meta.format}, one row per line)`)
      letter.meta.rows.forEach((r, i) => io.out(`${i + 1}\t${r.project}\t${r.reason}`))
      return 0
    }
    case 'drop': {
      if (!letters.list().some((l) => l.name === names[0])) throw errors.DEAD_LETTER_UNKNOWN(String(names[0] ?? ''))
      letters.remove(names[0] as string)
      io.out(`dropped ${names[0]}`)
      return 0
    }
    case 'stuck': {
      const failing = readFailingSegments(config.ingest.spoolDir)
      if (failing.length === 0) io.out('no spool segment is failing')
      const now = Date.now()
      for (const f of failing) {
        const alike = f.slicesAlike !== undefined ? `, every one of ${f.slicesAlike} slices alike` : ''
        io.out(`${f.segment}\t${f.table}\t${f.rows} rows\tfailing ${Math.round(secondsFailing(f.firstFailedAt, now))} s\t${f.attempts} attempts\t${f.kind}${alike}\t${f.lastError}`)
      }
      return 0
    }
    case 'set-aside': {
      const done = await setAsideSegment(config.ingest, names[0] as string, io.err ?? io.out)
      io.out(`set aside ${done.segment}: ${done.rows} rows into ${letters.dir} (${done.reason}); \`spanlens dead-letter replay ${done.segment}\` inserts them`)
      return 0
    }
    case 'replay': {
      const all = letters.list()
      const chosen = names.length === 0 ? all : names.map((n) => all.find((l) => l.name === n) ?? fail(n))
      if (chosen.length === 0) {
        io.out('no dead letters')
        return 0
      }
      const store = await openStore(config.store)
      try {
        await migrate(store)
        let still = 0
        for (const letter of chosen) {
          try {
            still += await replay(store, letters, letter, io)
          } catch (err) {
            if (!isStoreFailure(err)) throw err
            // The rows' reasons stay as ClickHouse gave them: the store's failure is not one.
            ;(io.err ?? io.out)(`${letter.name}: not replayed: ${failureText(describeInsertFailure(err))}; ClickHouse failed for its own reasons, the letter is kept as it was`)
            return 4
          }
        }
        return still === 0 ? 0 : 3
      } finally {
        await store.close()
      }
    }
    default:
      return usageError(`unknown subcommand ${JSON.stringify(sub)}`)
  }
}

async function replay(store: Store, letters: DeadLetters, letter: DeadLetter, io: Output): Promise<number> {
  const name = letter.name
  const rows = letters.rows(name)
  // The token follows the rows: a replay interrupted and run again inserts nothing twice. A
  // segment set aside whole keeps the token its own inserts had (dead-letter.ts says why).
  const digest = createHash('sha256')
  for (const r of rows) digest.update(r).update('\n')
  const token = letter.meta.token ?? `spanlens:replay:${name}:${digest.digest('hex').slice(0, 16)}`
  const target = targetOf(letter)
  const result = await insertIsolated(store, target, rows, token)
  // The token may be one ClickHouse remembers without the rows: a set-aside segment's, whose
  // inserts failed (stored-rows.ts), or this replay's own, interrupted by the engine's death.
  const restored = await restoreMissing(store, { ...target, rows }, result.dead, token)
  result.inserted += restored.result.inserted
  result.dead.push(...restored.result.dead)
  letters.rewrite(name, result.dead)
  const again = restored.missing > 0 ? ` (${restored.missing} of them answered as stored before but missing, inserted again)` : ''
  io.out(`${name}: ${result.inserted} inserted${again}, ${result.dead.length} refused again${result.dead[0] ? ` (${result.dead[0].reason})` : ''}`)
  return result.dead.length
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

function fail(name: string): never {
  throw errors.DEAD_LETTER_UNKNOWN(name)
}
