// OTel JS 2.x SDK setup used by several lib folders; pass the folder's own modules in.
export function makeNodeProvider({ NodeTracerProvider, BatchSpanProcessor, resourceFromAttributes, OTLPTraceExporter, serviceName, url }) {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register();
  return provider;
}
