import { describe, expect, it } from 'vitest'
import { ManualClock } from '../core/index.js'
import { HttpLinkTransport, LinkError } from './index.js'

type Call = { url: string; authorization: string | null }

/** A hub answering from a script, recording what the transport sent. */
function scriptedHub(answer: (url: string, call: number) => Response | Error) {
  const calls: Call[] = []
  // The transport always calls fetch with the URL as a string.
  const fetch = (url: string, init?: RequestInit) => {
    calls.push({ url, authorization: new Headers(init?.headers).get('authorization') })
    const reply = answer(url, calls.length)
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply)
  }
  return { calls, fetch: fetch as unknown as typeof globalThis.fetch }
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })
const mailbox = () => json({ messages: [], cursor: '0' })
let issued = 0
const tokenOr = (url: string, other: () => Response | Error) =>
  url.endsWith('/token') ? json({ accessToken: `access-${++issued}`, expiresIn: 300 }) : other()

describe('HttpLinkTransport', () => {
  it('reuses an access token until four fifths of its life, then refreshes it before it expires', async () => {
    const clock = new ManualClock(1_000_000)
    const hub = scriptedHub((url) => tokenOr(url, mailbox))
    const transport = new HttpLinkTransport({
      hubUrl: 'http://127.0.0.1:9/',
      refreshToken: 'r',
      fetch: hub.fetch,
      clock,
    })
    await transport.poll('0', 0)
    await transport.poll('0', 0)
    clock.advance(239_000)
    await transport.poll('0', 0)
    clock.advance(2_000)
    await transport.poll('0', 0)
    const polls = hub.calls.filter((call) => call.url.includes('/messages'))
    // Every poll names this process, the same one each time (a restart would be another).
    expect(polls[0]?.url).toBe(
      `http://127.0.0.1:9/cosigner/v1/messages?after=0&wait=0&instance=${transport.instance}`,
    )
    expect(transport.instance).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Set(polls.map((call) => new URL(call.url).searchParams.get('instance'))).size).toBe(1)
    const tokens = polls.map((call) => call.authorization)
    expect(tokens[0]).toBe(tokens[2])
    expect(tokens[3]).not.toBe(tokens[2])
    expect(hub.calls.filter((call) => call.url.endsWith('/token'))).toHaveLength(2)
  })

  it('refreshes once on a 401, and names a refused refresh token', async () => {
    const hub = scriptedHub((url, call) =>
      tokenOr(url, () => (call === 2 ? new Response('', { status: 401 }) : mailbox())),
    )
    const transport = new HttpLinkTransport({
      hubUrl: 'http://127.0.0.1:9',
      refreshToken: 'r',
      fetch: hub.fetch,
    })
    await expect(transport.poll('0', 0)).resolves.toEqual({ messages: [], cursor: '0' })
    const refused = new HttpLinkTransport({
      hubUrl: 'http://127.0.0.1:9',
      refreshToken: 'r',
      fetch: scriptedHub(() => json({ message: 'refresh token revoked' }, 401)).fetch,
    })
    await expect(refused.ack('3')).rejects.toMatchObject({
      code: 'CS_LINK_TOKEN_REFUSED',
      message: 'the hub refused the token (HTTP 401: refresh token revoked)',
    })
  })

  it('names an unreachable hub, a failing hub and an answer of the wrong shape', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    })
    const cases: [Response | Error, string, RegExp][] = [
      [refused, 'CS_LINK_HUB_UNREACHABLE', /unreachable: ECONNREFUSED$/],
      [new Response('', { status: 503 }), 'CS_LINK_HUB_UNREACHABLE', /failed: HTTP 503/],
      [json({ messages: 'none' }), 'CS_LINK_PROTOCOL_VIOLATION', /wrong shape: messages: /],
      [new Response('<html>', { status: 200 }), 'CS_LINK_PROTOCOL_VIOLATION', /not JSON/],
      [new Response('', { status: 404 }), 'CS_LINK_PROTOCOL_VIOLATION', /answered HTTP 404/],
    ]
    for (const [answer, code, message] of cases) {
      const hub = scriptedHub((url) => tokenOr(url, () => answer))
      const transport = new HttpLinkTransport({
        hubUrl: 'http://127.0.0.1:9',
        refreshToken: 'r',
        fetch: hub.fetch,
      })
      const error = await transport.poll('0', 0).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(LinkError)
      expect(error).toMatchObject({ code })
      expect((error as Error).message).toMatch(message)
    }
  })
})
