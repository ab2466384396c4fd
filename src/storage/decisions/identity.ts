import { LockRank, type AggregateLock } from '../database/index.js'

/** A request's identity: its route and its requestId (the same id on another route is another request). */
export const decisionKey = (route: string, requestId: string) => `${route}\u0000${requestId}`

/** The lock that serialises every write about one request. */
export function requestLock(route: string, requestId: string): AggregateLock {
  return { rank: LockRank.request, key: decisionKey(route, requestId) }
}
