/**
 * What a request is, at the protocol edge (issue 11, items 1 and 2): the digest covers exactly the JSON that
 * was signed, `"__proto__"` members included, and identifiers a database cannot store faithfully never
 * reach the store. Driven through the real handler over HTTP, on SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCallbackResponse, type CallbackResponse } from '../../src/protocol/index.js'
import { openStore } from '../../src/storage/index.js'
import { freshPostgresSchema, pgUrl, sqliteDatabase } from '../support/databases.js'
import { startTestHandler, transferOfUsd, type TestHandler } from './support.js'

interface Database {
  readonly name: string
  readonly open: () => Promise<{ url: string; drop: () => Promise<void> }>
}

const DATABASES: readonly Database[] = [
  { name: 'sqlite', open: async () => ({ url: await sqliteDatabase.freshUrl(), drop: async () => {} }) },
  ...(pgUrl === undefined ? [] : [{ name: 'postgres', open: () => freshPostgresSchema(pgUrl!) }]),
]

/** `payload` as JSON text with a `"__proto__"` member added, parsed back as the handler parses it. */
function withProtoMember(payload: Record<string, unknown>, member: unknown): Record<string, unknown> {
  return JSON.parse(`{"__proto__":${JSON.stringify(member)},${JSON.stringify(payload).slice(1)}`) as Record<
    string,
    unknown
  >
}

describe.each(DATABASES)('the protocol edge on $name', (database) => {
  let h: TestHandler
  let storeUrl: string
  let drop: () => Promise<void>
  beforeAll(async () => {
    ;({ url: storeUrl, drop } = await database.open())
    h = await startTestHandler({ storeUrl })
  })
  afterAll(async () => {
    await h.close()
    await drop()
  })

  const decide = async (payload: unknown): Promise<CallbackResponse> => {
    const reply = await h.send('tx', payload)
    expect(reply.status).toBe(200)
    return verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)
  }

  const recorded = async (requestId: string) => {
    const store = await openStore(storeUrl)
    try {
      return (await store.listDecisions(0)).find((decision) => decision.requestId === requestId)
    } finally {
      await store.close()
    }
  }

  const expectAlteredReplay = async (altered: unknown, requestId: string) => {
    expect(await decide(altered)).toEqual({
      action: 'REJECT',
      requestId,
      rejectionReason: expect.stringMatching(/different payload/),
    })
    expect(h.logs.some((line) => line.alert === 'replay-altered' && line.requestId === requestId)).toBe(true)
  }

  describe('"__proto__" members are part of the signed request', () => {
    it('a top-level "__proto__" member changed or removed on replay gets REJECT and the alert', async () => {
      const base = transferOfUsd(100)
      const requestId = base.requestId as string
      const signed = withProtoMember(base, { memo: 'as signed' })
      expect((await decide(signed)).action).toBe('APPROVE')
      expect((await decide(signed)).action).toBe('APPROVE')
      await expectAlteredReplay(withProtoMember(base, { memo: 'changed' }), requestId)
      await expectAlteredReplay(base, requestId)
    })

    it('a nested "__proto__" member changed on replay gets REJECT and the alert', async () => {
      const base = transferOfUsd(100)
      const requestId = base.requestId as string
      const [destination] = base.destinations as Record<string, unknown>[]
      const nested = (member: unknown) => ({ ...base, destinations: [withProtoMember(destination!, member)] })
      expect((await decide(nested({ tag: 'a' }))).action).toBe('APPROVE')
      await expectAlteredReplay(nested({ tag: 'b' }), requestId)
    })

    it('the recorded request keeps the member that was signed', async () => {
      const base = transferOfUsd(100)
      expect((await decide(withProtoMember(base, { memo: 'kept' }))).action).toBe('APPROVE')
      const request = (await recorded(base.requestId as string))?.request as Record<string, unknown>
      expect(Object.hasOwn(request, '__proto__')).toBe(true)
      expect(Object.getOwnPropertyDescriptor(request, '__proto__')?.value).toEqual({ memo: 'kept' })
    })
  })

  describe('identifiers a database cannot store faithfully are refused before the store', () => {
    it.each([
      ['ending in a lone surrogate', `${randomUUID()}\ud800`, /requestId contains a lone UTF-16 surrogate/],
      ['holding a NUL', `${randomUUID()}\u0000x`, /requestId contains the control character U\+0000/],
      [
        'longer than the limit',
        'r'.repeat(300),
        /requestId is 300 characters long, more than the limit of 256/,
      ],
    ])(
      'a requestId %s gets a stable signed REJECT naming the reason, and concurrent requests are unaffected',
      async (_, requestId, reason) => {
        const bad = transferOfUsd(100, { requestId, txId: randomUUID() })
        const unrelated = Array.from({ length: 20 }, () => transferOfUsd(100))
        const [first, ...others] = await Promise.all([
          decide(bad),
          ...unrelated.map((payload) => decide(payload)),
        ])
        expect(first).toEqual({ action: 'REJECT', requestId, rejectionReason: expect.stringMatching(reason) })
        expect(others.map((response) => response.action)).toEqual(unrelated.map(() => 'APPROVE'))
        for (let attempt = 0; attempt < 3; attempt++) expect(await decide(bad)).toEqual(first)
        expect(await recorded(requestId)).toBeUndefined()
        const store = await openStore(storeUrl)
        try {
          expect((await store.verifyAudit()).ok).toBe(true)
        } finally {
          await store.close()
        }
      },
    )

    it('a NUL or lone surrogate elsewhere in the payload is refused the same way', async () => {
      const withNul = transferOfUsd(100, { note: 'pay\u0000day' })
      expect(await decide(withNul)).toMatchObject({
        action: 'REJECT',
        rejectionReason: expect.stringMatching(/NUL character/),
      })
      const withSurrogate = transferOfUsd(100, { note: 'half \udc00' })
      expect(await decide(withSurrogate)).toMatchObject({
        action: 'REJECT',
        rejectionReason: expect.stringMatching(
          /\$\.note of the payload is a string with a lone UTF-16 surrogate/,
        ),
      })
      expect(await recorded(withNul.requestId as string)).toBeUndefined()
    })
  })
})
