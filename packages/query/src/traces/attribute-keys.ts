import { type ClickHouseClient, ParamBag } from '../db.js'
import { spanConditions, type SpanFilter } from '../filters.js'
import { type KeyUse, keysByUse } from '../map-keys.js'

export interface AttributeKeys {
  attributes: KeyUse[]
  resource: KeyUse[]
}

const SHOWN = 100

/** The span and resource attribute keys that spans matching the filter carry, most used first. */
export async function attributeKeys(client: ClickHouseClient, project: string, filter: SpanFilter): Promise<AttributeKeys> {
  const keysOf = (column: 'attributes' | 'resource_attributes') => {
    const bag = new ParamBag()
    return keysByUse(client, column, spanConditions(project, filter, bag).join(' AND '), bag.values, SHOWN)
  }
  const [attributes, resource] = await Promise.all([keysOf('attributes'), keysOf('resource_attributes')])
  return { attributes, resource }
}
