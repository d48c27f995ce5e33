import type { OtlpSpan } from '../../src/otlp/model.js'

/** A decoded span of service `svc`, 250 ms long, with these attributes (and any other field replaced). */
export const span = (attributes: OtlpSpan['attributes'], extra: Partial<OtlpSpan> = {}): OtlpSpan => ({
  resource: { 'service.name': 'svc' },
  scopeName: 'test',
  scopeVersion: '',
  scopeAttributes: {},
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  parentSpanId: '',
  name: 'x',
  kind: 3,
  startNs: '1790000000000000000',
  endNs: '1790000000250000000',
  attributes,
  events: [],
  links: [],
  statusCode: 0,
  statusMessage: '',
  ...extra,
})
