import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { spanConditions, type SpanFilter } from '../filters.js'

interface AttributeKey {
  key: string
  /** spans carrying it */
  spans: number
}

export interface AttributeKeys {
  attributes: AttributeKey[]
  resource: AttributeKey[]
}

const SHOWN = 100

/** The span and resource attribute keys that spans matching the filter carry, most used first. */
export async function attributeKeys(client: ClickHouseClient, project: string, filter: SpanFilter): Promise<AttributeKeys> {
  const keysOf = async (column: 'attributes' | 'resource_attributes') => {
    const bag = new ParamBag()
    const rows = await select<{ k: string; n: number }>(
      client,
      // FINAL: a span the content merge rewrote is stored twice until ClickHouse merges the versions.
      `SELECT arrayJoin(mapKeys(${column})) AS k, count() AS n FROM spans FINAL WHERE ${spanConditions(project, filter, bag).join(' AND ')}
       GROUP BY k ORDER BY n DESC, k LIMIT ${SHOWN}`,
      bag.values,
    )
    return rows.map((r) => ({ key: r.k, spans: Number(r.n) }))
  }
  const [attributes, resource] = await Promise.all([keysOf('attributes'), keysOf('resource_attributes')])
  return { attributes, resource }
}
