declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's project, set from the API key by the auth hook. */
    spanlensProject?: string
  }
}

export {}
