/** The row normalize produces: one per span, declared column by column in schema/span-columns.ts. */
export type { SpanRow } from '../schema/span-columns.js'
