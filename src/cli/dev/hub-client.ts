import type { KeyObject } from 'node:crypto'
import { signRequest } from '../../keys/index.js'
import { DevHubRefused, DevNotRunning } from '../errors.js'

/**
 * The hub's REST API as any client calls it: each request signed with the API user's key (a fresh RS256
 * JWT over the URI and the body's hash), exactly as `@fireblocks/ts-sdk` signs. The SDK is a development
 * dependency of this package, so the command signs with `src/keys` instead.
 */
export interface HubClient {
  readonly url: string
  readonly apiKey: string
  get<T>(path: string): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
}

export function hubClient(url: string, apiKey: string, privateKey: KeyObject): HubClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const { headers } = await signRequest({
      apiKey,
      privateKey,
      url: path,
      ...(text === undefined ? {} : { body: text }),
    })
    let response: Response
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: { ...headers, ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(text === undefined ? {} : { body: text }),
      })
    } catch {
      throw new DevNotRunning(`the hub at ${url} does not answer`)
    }
    const answer = await response.text()
    if (!response.ok) throw new DevHubRefused(`${method} ${path}: HTTP ${response.status} ${refusal(answer)}`)
    return (answer === '' ? undefined : JSON.parse(answer)) as T
  }
  return {
    url,
    apiKey,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  }
}

/** The hub's `{ message, code }`, or the start of whatever else it answered. */
function refusal(answer: string): string {
  try {
    const { message, code } = JSON.parse(answer) as { message?: unknown; code?: unknown }
    if (typeof message === 'string')
      return typeof code === 'number' || typeof code === 'string' ? `${message} (code ${code})` : message
  } catch {
    // not JSON: shown as it is
  }
  return answer.slice(0, 200)
}
