import type { ParamBag } from './db.js'
import { type NumberCondition, numberConditionsSql } from './span-numbers.js'

/**
 * A span attribute as a number, `key` an SQL parameter (`{p0:String}`): NULL where its
 * text is not one (absent, empty, `12 ms`). The `attr_num:<key>` drift signal reads its
 * values with this expression and the `attrNum.<key>` filter bounds it, so the traces
 * link of a drift bin selects exactly the spans the bin counted.
 */
export const attributeNumber = (key: string, alias = ''): string => `toFloat64OrNull(${alias}attributes[${key}])`

/**
 * SQL conditions (all must hold) on a span attribute as a number. Drift leaves out values
 * that are NaN or infinite (drift/sets.ts) and so does this: an attribute `inf` or `1e999`
 * matches no condition, as a missing one does.
 */
export function attributeNumberSql(key: string, conditions: NumberCondition[], bag: ParamBag, alias = ''): string[] {
  const value = attributeNumber(bag.add(key, 'String'), alias)
  return [`ifNull(isFinite(${value}), 0)`, ...numberConditionsSql(value, conditions, bag)]
}
