import type { ServiceApp } from '../../service/index.js'
import { API_CODES, HubApiError } from './api-error.js'

const EMPTY = new Uint8Array()
/** `application/json`, or any `+json` type, with parameters. */
const JSON_TYPE = /^\s*application\/([\w.-]+\+)?json\s*(;|$)/i

/**
 * Makes `app` keep every request body as the exact bytes received, whatever its content type, for the
 * `bodyHash` check (hub-api.md §1.4): nothing is parsed before the request is authenticated. A GET is never
 * read (Fastify ignores its body), so it counts as body-less. Returns the reader of those bytes and of the
 * JSON the handlers get.
 */
export function captureRawBodies(app: ServiceApp) {
  const rawBodies = new WeakMap<object, Uint8Array>()
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer)
    done(null, undefined)
  })

  /** The body as handlers see it: JSON parsed (poisoning refused), an empty body none, other types raw bytes. */
  async function parsedBody(
    request: { readonly headers: Readonly<Record<string, unknown>> },
    raw: Uint8Array,
  ): Promise<unknown> {
    if (raw.length === 0) return undefined
    const contentType = request.headers['content-type']
    if (typeof contentType !== 'string' || !JSON_TYPE.test(contentType)) return Buffer.from(raw)
    return new Promise((resolve, reject) => {
      void defaultJsonParser(request as never, Buffer.from(raw).toString('utf8'), (error, value) => {
        if (error) reject(new HubApiError(400, API_CODES.validation, 'The request body is not valid JSON'))
        else resolve(value)
      })
    })
  }

  return {
    rawBody: (request: object): Uint8Array => rawBodies.get(request) ?? EMPTY,
    parsedBody,
  }
}
