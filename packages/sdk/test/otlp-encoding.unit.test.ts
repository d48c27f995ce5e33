import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import protobuf from 'protobufjs'
import { context, createTraceState, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { encodeRequest, encodeSpan, TAGS } from '../src/export/otlp-encode.js'
import { protoRoot } from './helpers/receiver.js'

const WIRE: Record<string, number> = { bytes: 2, string: 2, fixed64: 1, fixed32: 5, double: 1, bool: 0, int64: 0, int32: 0, uint32: 0 }

/** The tag the vendored .proto gives `message.field` ((id << 3) | wire type). */
function protoTag(message: string, field: string): number {
  const f = protoRoot.lookupType(`opentelemetry.proto.${message}`).fields[field]
  if (!f) throw new Error(`${message}.${field} is not in the vendored protos`)
  f.resolve()
  // Nothing we write is packed: a repeated field has its element's wire type.
  const wire = f.resolvedType instanceof protobuf.Enum ? 0 : f.resolvedType ? 2 : WIRE[f.type]
  if (wire === undefined) throw new Error(`no wire type for ${f.type}`)
  return (f.id << 3) | wire
}

describe('OTLP encoding of exported spans', () => {
  it('writes every field with the tag the vendored opentelemetry-proto files give it', () => {
    const pairs: [number, string, string][] = [
      [TAGS.request.resourceSpans, 'collector.trace.v1.ExportTraceServiceRequest', 'resourceSpans'],
      [TAGS.resourceSpans.resource, 'trace.v1.ResourceSpans', 'resource'],
      [TAGS.resourceSpans.scopeSpans, 'trace.v1.ResourceSpans', 'scopeSpans'],
      [TAGS.resource.attributes, 'resource.v1.Resource', 'attributes'],
      [TAGS.scopeSpans.scope, 'trace.v1.ScopeSpans', 'scope'],
      [TAGS.scopeSpans.spans, 'trace.v1.ScopeSpans', 'spans'],
      [TAGS.scope.name, 'common.v1.InstrumentationScope', 'name'],
      [TAGS.scope.version, 'common.v1.InstrumentationScope', 'version'],
      [TAGS.span.traceId, 'trace.v1.Span', 'traceId'],
      [TAGS.span.spanId, 'trace.v1.Span', 'spanId'],
      [TAGS.span.traceState, 'trace.v1.Span', 'traceState'],
      [TAGS.span.parentSpanId, 'trace.v1.Span', 'parentSpanId'],
      [TAGS.span.name, 'trace.v1.Span', 'name'],
      [TAGS.span.kind, 'trace.v1.Span', 'kind'],
      [TAGS.span.start, 'trace.v1.Span', 'startTimeUnixNano'],
      [TAGS.span.end, 'trace.v1.Span', 'endTimeUnixNano'],
      [TAGS.span.attributes, 'trace.v1.Span', 'attributes'],
      [TAGS.span.droppedAttributes, 'trace.v1.Span', 'droppedAttributesCount'],
      [TAGS.span.events, 'trace.v1.Span', 'events'],
      [TAGS.span.droppedEvents, 'trace.v1.Span', 'droppedEventsCount'],
      [TAGS.span.links, 'trace.v1.Span', 'links'],
      [TAGS.span.droppedLinks, 'trace.v1.Span', 'droppedLinksCount'],
      [TAGS.span.status, 'trace.v1.Span', 'status'],
      [TAGS.span.flags, 'trace.v1.Span', 'flags'],
      [TAGS.event.time, 'trace.v1.Span.Event', 'timeUnixNano'],
      [TAGS.event.name, 'trace.v1.Span.Event', 'name'],
      [TAGS.event.attributes, 'trace.v1.Span.Event', 'attributes'],
      [TAGS.event.droppedAttributes, 'trace.v1.Span.Event', 'droppedAttributesCount'],
      [TAGS.link.traceId, 'trace.v1.Span.Link', 'traceId'],
      [TAGS.link.spanId, 'trace.v1.Span.Link', 'spanId'],
      [TAGS.link.traceState, 'trace.v1.Span.Link', 'traceState'],
      [TAGS.link.attributes, 'trace.v1.Span.Link', 'attributes'],
      [TAGS.link.droppedAttributes, 'trace.v1.Span.Link', 'droppedAttributesCount'],
      [TAGS.link.flags, 'trace.v1.Span.Link', 'flags'],
      [TAGS.status.message, 'trace.v1.Status', 'message'],
      [TAGS.status.code, 'trace.v1.Status', 'code'],
      [TAGS.keyValue.key, 'common.v1.KeyValue', 'key'],
      [TAGS.keyValue.value, 'common.v1.KeyValue', 'value'],
      [TAGS.anyValue.string, 'common.v1.AnyValue', 'stringValue'],
      [TAGS.anyValue.bool, 'common.v1.AnyValue', 'boolValue'],
      [TAGS.anyValue.int, 'common.v1.AnyValue', 'intValue'],
      [TAGS.anyValue.double, 'common.v1.AnyValue', 'doubleValue'],
      [TAGS.anyValue.array, 'common.v1.AnyValue', 'arrayValue'],
      [TAGS.arrayValue.values, 'common.v1.ArrayValue', 'values'],
    ]
    for (const [tag, message, field] of pairs) expect(`${message}.${field} ${tag}`).toBe(`${message}.${field} ${protoTag(message, field)}`)
  })

  it('round-trips a span with every kind of field through protobufjs', () => {
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', 'service.version': '2' }) })
    const tracer = provider.getTracer('scope-a', '1.0.0')
    const parentCtx = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      traceState: createTraceState('vendor=v1'),
    })
    const span = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        startTime: [1_763_000_000, 123_456_789],
        attributes: {
          s: 'text', b: true, i: 42, neg: -7, big: 2 ** 60, d: 0.25, sa: ['x', 'y'], na: [1, 2.5], ba: [false],
        },
        links: [{ context: { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: 1 }, attributes: { why: 'retry' } }],
      },
      parentCtx,
    )
    span.addEvent('exception', { 'exception.message': 'boom' }, [1_763_000_000, 500_000_000])
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' })
    span.end([1_763_000_001, 1])
    const s = span as unknown as ReadableSpan
    const body = encodeRequest([{ resource: s.resource, scope: s.instrumentationScope, bytes: encodeSpan(s, (k, v) => (k === 's' ? v.toUpperCase() : v)) }], {
      resourceDefaults: { 'telemetry.sdk.name': '@spanlens/sdk', 'service.name': 'overridden by the span resource' },
    })
    const Request = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
    const decoded = Request.toObject(Request.decode(body), { longs: String, bytes: String, defaults: false, enums: Number }) as any
    const rs = decoded.resourceSpans[0]
    expect(rs.resource.attributes).toEqual([
      { key: 'telemetry.sdk.name', value: { stringValue: '@spanlens/sdk' } },
      { key: 'service.name', value: { stringValue: 'svc' } },
      { key: 'service.version', value: { stringValue: '2' } },
    ])
    expect(rs.scopeSpans[0].scope).toEqual({ name: 'scope-a', version: '1.0.0' })
    const got = rs.scopeSpans[0].spans[0]
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64')
    expect(got).toMatchObject({
      traceId: b64('0af7651916cd43dd8448eb211c80319c'),
      spanId: b64(s.spanContext().spanId),
      traceState: 'vendor=v1',
      parentSpanId: b64('b7ad6b7169203331'),
      flags: 1,
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: '1763000000123456789',
      endTimeUnixNano: '1763000001000000001',
      status: { code: 2, message: 'bad' },
    })
    expect(got.attributes).toEqual([
      { key: 's', value: { stringValue: 'TEXT' } },
      { key: 'b', value: { boolValue: true } },
      { key: 'i', value: { intValue: '42' } },
      { key: 'neg', value: { intValue: '-7' } },
      { key: 'big', value: { doubleValue: 2 ** 60 } },
      { key: 'd', value: { doubleValue: 0.25 } },
      { key: 'sa', value: { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] } } },
      { key: 'na', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }] } } },
      { key: 'ba', value: { arrayValue: { values: [{ boolValue: false }] } } },
    ])
    expect(got.events).toEqual([
      { timeUnixNano: '1763000000500000000', name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }] },
    ])
    expect(got.links).toEqual([
      { traceId: b64('11111111111111111111111111111111'), spanId: b64('2222222222222222'), flags: 1, attributes: [{ key: 'why', value: { stringValue: 'retry' } }] },
    ])
  })

  it('writes any attribute values, lengths and times the way protobufjs reads them back', () => {
    const Span = protoRoot.lookupType('opentelemetry.proto.trace.v1.Span')
    const provider = new BasicTracerProvider()
    const tracer = provider.getTracer('prop')
    // Strings around the one-, two- and three-byte length boundaries (128, 16384), with multi-byte characters.
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.integer({ min: 15, max: 3_000 }).map((n) => 'é🙂x'.repeat(n)),
    )
    const value = fc.oneof(
      text,
      fc.boolean(),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.array(text, { maxLength: 4 }),
      fc.array(fc.integer(), { maxLength: 4 }),
    )
    const time = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 + 10 }), fc.integer({ min: 0, max: 999_999_999 }))
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), value, { maxKeys: 12 }), time, fc.string({ maxLength: 300 }), (attributes, start, name) => {
        const span = tracer.startSpan(name, { attributes, startTime: start as [number, number] })
        span.end(start as [number, number])
        const got = Span.toObject(Span.decode(encodeSpan(span as unknown as ReadableSpan)), { longs: String, defaults: false }) as any
        const nanos = (BigInt(start[0]) * 1_000_000_000n + BigInt(start[1])).toString()
        expect(got.name ?? '').toBe(name)
        expect(got.startTimeUnixNano ?? '0').toBe(nanos)
        expect(got.endTimeUnixNano ?? '0').toBe(nanos)
        const back = (v: any): unknown =>
          v.stringValue !== undefined ? v.stringValue : v.boolValue !== undefined ? v.boolValue : v.intValue !== undefined ? Number(v.intValue) : v.doubleValue !== undefined ? v.doubleValue : v.arrayValue ? (v.arrayValue.values ?? []).map(back) : ''
        const decoded = Object.fromEntries((got.attributes ?? []).map((kv: any) => [kv.key, back(kv.value ?? {})]))
        // Empty strings and false decode as absent (proto3 defaults): compare what a reader sees.
        const expected = Object.fromEntries(Object.entries((span as unknown as ReadableSpan).attributes).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => x ?? '') : v === false ? '' : v]))
        const seen = Object.fromEntries(Object.entries(decoded).map(([k, v]) => [k, v === false ? '' : v]))
        expect(seen).toEqual(expected)
      }),
      { seed: 19, numRuns: 300 },
    )
  })

  it('keeps a span whose name, event name or scope a provider took as a non-string, as its string', () => {
    const Request = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
    const span = new BasicTracerProvider().getTracer(7 as never, 2 as never).startSpan('first')
    span.updateName(42 as never)
    span.addEvent(null as never)
    span.end()
    const s = span as unknown as ReadableSpan
    const body = encodeRequest([{ resource: s.resource, scope: s.instrumentationScope, bytes: encodeSpan(s) }])
    const decoded = Request.toObject(Request.decode(body)) as {
      resourceSpans: { scopeSpans: { scope: { name: string; version: string }; spans: { name: string; events: { name: string }[] }[] }[] }[]
    }
    const scopeSpans = decoded.resourceSpans[0]!.scopeSpans[0]!
    expect(scopeSpans.scope).toEqual({ name: '7', version: '2' })
    expect(scopeSpans.spans[0]).toMatchObject({ name: '42', events: [{ name: 'null' }] })
  })

  it("bounds an app's span: names, keys and values of the span, its events, links, scope and resource", () => {
    const Request = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
    const huge = 'v'.repeat(3 * 1024 * 1024)
    const longName = 'n'.repeat(200_000)
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', 'app.blob': huge }) })
    const span = provider.getTracer(longName, longName).startSpan(longName, {
      attributes: { [longName]: 'v', 'app.value': huge, 'app.numbers': Array.from({ length: 20_000 }, (_, i) => i), 'app.words': [huge, 'w'] },
      links: [{ context: { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: 1 }, attributes: { 'app.link': huge } }],
    })
    span.addEvent(longName, { 'app.event': huge, [longName]: 1 })
    span.updateName(`${longName}!`)
    span.end()
    const s = span as unknown as ReadableSpan
    const body = encodeRequest([{ resource: s.resource, scope: s.instrumentationScope, bytes: encodeSpan(s, (_k, v) => v) }])
    expect(body.length).toBeLessThan(8 * 1024 * 1024)
    const rs = (Request.toObject(Request.decode(body), { longs: String }) as any).resourceSpans[0]
    const kv = (list: any[]) => Object.fromEntries(list.map((a: any) => [a.key, a.value.stringValue ?? a.value.arrayValue?.values.map((v: any) => v.stringValue ?? Number(v.intValue))]))
    const cutName = boundedLike(longName)
    const cutValue = (v: string) => {
      expect(Buffer.byteLength(v)).toBeLessThanOrEqual(1024 * 1024)
      expect(v).toMatch(/^v+…\[truncated \d+ chars\]$/)
    }
    cutValue(kv(rs.resource.attributes)['app.blob'])
    expect(rs.scopeSpans[0].scope).toEqual({ name: cutName, version: cutName })
    const got = rs.scopeSpans[0].spans[0]
    expect(got.name).toBe(boundedLike(`${longName}!`))
    const attrs = kv(got.attributes)
    expect(attrs[cutName]).toBe('v')
    cutValue(attrs['app.value'])
    expect(attrs['app.numbers']).toHaveLength(16_384)
    expect(attrs['app.numbers'][16_383]).toBe('…[truncated 3617 items]')
    expect(attrs['app.words']).toHaveLength(2)
    expect(attrs['app.words'][0]).toMatch(/^v+…\[truncated \d+ chars\]$/)
    expect(attrs['app.words'][0].length + attrs['app.words'][1].length).toBeLessThanOrEqual(1024 * 1024)
    expect(attrs['app.words'][1]).toBe('…[truncated 1 items]')
    expect(got.events[0].name).toBe(cutName)
    cutValue(kv(got.events[0].attributes)['app.event'])
    expect(got.events[0].attributes.map((a: any) => a.key)).toContain(cutName)
    cutValue(kv(got.links[0].attributes)['app.link'])
  })

  it('groups spans by resource and scope in one request, whatever their sizes', () => {
    const Request = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
    const providers = new Map<string, BasicTracerProvider>()
    const make = (service: string, scope: string, version?: string) => {
      if (!providers.has(service)) providers.set(service, new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }) }))
      const tracer = providers.get(service)!.getTracer(scope, version)
      return (name: string, text: string) => {
        const span = tracer.startSpan(name, { attributes: { text } })
        span.end()
        const s = span as unknown as ReadableSpan
        return { resource: s.resource, scope: s.instrumentationScope, bytes: encodeSpan(s) }
      }
    }
    const a = make('svc-a', 'scope-1', '1.0')
    const a2 = make('svc-a', 'scope-2')
    const b = make('svc-b', 'scope-1', '1.0')
    // Lengths from one byte to three (a 20,000-byte span), in every nesting level.
    const spans = [a('a1', 'x'), b('b1', 'y'.repeat(20_000)), a2('a2', 'z'.repeat(200)), a('a3', 'w'.repeat(1_000)), b('b2', '')]
    const decoded = Request.toObject(Request.decode(encodeRequest(spans)), { defaults: false }) as any
    const shape = decoded.resourceSpans.map((rs: any) => ({
      service: rs.resource.attributes[0].value.stringValue,
      scopes: rs.scopeSpans.map((ss: any) => ({ scope: ss.scope, spans: ss.spans.map((x: any) => [x.name, x.attributes[0].value.stringValue?.length ?? 0]) })),
    }))
    expect(shape).toEqual([
      { service: 'svc-a', scopes: [{ scope: { name: 'scope-1', version: '1.0' }, spans: [['a1', 1], ['a3', 1_000]] }, { scope: { name: 'scope-2' }, spans: [['a2', 200]] }] },
      { service: 'svc-b', scopes: [{ scope: { name: 'scope-1', version: '1.0' }, spans: [['b1', 20_000], ['b2', 0]] }] },
    ])
  })
})

/** A name of `n` repeated as the SDK sends it: 1,024 characters with the marker. */
function boundedLike(name: string): string {
  const mark = (n: number) => `…[truncated ${n} chars]`
  const keep = 1024 - mark(name.length).length
  return `${name.slice(0, keep)}${mark(name.length - keep)}`
}
