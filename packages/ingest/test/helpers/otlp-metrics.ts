/** The gRPC method of the OTLP metrics service. */
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'

const nowNs = () => BigInt(Date.now()) * 1_000_000n

/**
 * An OTLP JSON ExportMetricsServiceRequest with two good points of `name` (a
 * gauge and a delta histogram) and `bad` points the receiver must refuse, one
 * per validation class.
 */
export function badMetricPoints(name: string): { request: Record<string, unknown>; bad: number } {
  const t = String(nowNs())
  const start = String(nowNs() - 60_000_000_000n)
  const gauge = (points: unknown[]) => ({ name, unit: '1', gauge: { dataPoints: points } })
  const request = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-points' } }] },
        scopeMetrics: [
          {
            scope: { name: 'test' },
            metrics: [
              gauge([
                { timeUnixNano: t, asDouble: 1.5, attributes: [{ key: 'ok', value: { stringValue: 'yes' } }] },
                // missing time
                { asDouble: 2 },
                // not a number
                { timeUnixNano: t, asDouble: 'NaN' },
                // start after time
                { startTimeUnixNano: t, timeUnixNano: start, asInt: '3' },
                // an int64 that is not one
                { timeUnixNano: t, asInt: 'seven' },
              ]),
              {
                name,
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    { startTimeUnixNano: start, timeUnixNano: t, count: '3', sum: 6, bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2] },
                    // one bucket short
                    { startTimeUnixNano: start, timeUnixNano: t, count: '2', sum: 6, bucketCounts: ['1', '1'], explicitBounds: [1, 2] },
                    // bounds not increasing
                    { startTimeUnixNano: start, timeUnixNano: t, count: '2', sum: 6, bucketCounts: ['1', '1', '0'], explicitBounds: [2, 1] },
                  ],
                },
              },
              // A sum without a temporality.
              { name, sum: { isMonotonic: true, dataPoints: [{ startTimeUnixNano: start, timeUnixNano: t, asInt: '1' }] } },
              // An exponential histogram with a scale out of range.
              { name, exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: start, timeUnixNano: t, count: '1', scale: 40, positive: { offset: 0, bucketCounts: ['1'] } }] } },
              // Flags are a uint32 (the column wrapped 2^32 + 1 around to 1).
              gauge([{ timeUnixNano: t, asDouble: 1, flags: 2 ** 32 + 1 }]),
            ],
          },
        ],
      },
    ],
  }
  return { request, bad: 9 }
}
