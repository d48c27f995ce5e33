declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's project, set from the API key by the auth hook. */
    spanlensProject?: string
  }
  interface FastifyContextConfig {
    /** The scheme a 401 of the route offers (http/challenge.ts): `basic` on Langfuse's route; Bearer otherwise. */
    authScheme?: 'basic'
  }
}

export {}
