declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's project, set from the API key by the auth hook. */
    spanlensProject?: string
    /** Whether the ingest pipeline admitted this request (and must release it). */
    spanlensAdmitted?: boolean
  }
}

export {}
