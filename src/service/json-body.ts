import type { FastifyInstance } from 'fastify'

/**
 * JSON bodies as Fastify parses them (prototype poisoning refused), except that an empty body sent with
 * `Content-Type: application/json` is no body rather than a 400: the official Fireblocks SDK sends that
 * header on every request, GETs and body-less POSTs included.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text.trim() === '') return done(null, undefined)
    // Fastify's default JSON parser answers through `done`; its return value carries nothing.
    void parseJson(request, text, done)
  })
}
