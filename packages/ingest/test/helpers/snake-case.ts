/**
 * An OTLP JSON body with every field under its proto name (snake_case) instead of its
 * lowerCamelCase JSON name: what a proto3 JSON writer set to keep proto names (protobuf's
 * preserving_proto_field_name, Python's MessageToJson(preserving_proto_field_name=True))
 * sends. Every object key in OTLP JSON is a field name (attributes are KeyValue lists,
 * never maps), so all of them are renamed; values, attribute keys included, are not.
 */
export function snakeCaseFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeCaseFields)
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCaseFields(x)]))
}
