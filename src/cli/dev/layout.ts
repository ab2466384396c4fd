import { join, resolve } from 'node:path'

/**
 * The folder `countersign dev` keeps the whole system in (`.countersign-dev/` by default): made at the
 * first start, reused after; deleting it starts over.
 */
export interface DevLayout {
  readonly root: string
  /** `countersign hub init`'s folder: hub.yaml, hub.db, the Owner's key, cloud1/ and cloud2/. */
  readonly hub: string
  readonly hubConfig: string
  /** The two Signer API users' private keys (0600). */
  readonly apiUsers: string
  /** The callback handler's development folder (keys, policy.yaml, countersign.yaml, its database). */
  readonly handler: string
  /** The handler's SQLite database (as its development configuration names it): its decisions. */
  readonly handlerDatabase: string
  /** One JSON log file per service. */
  readonly logs: string
  /** What `countersign dev demo` (and anyone) needs to reach the running system: see `state.ts`. */
  readonly state: string
  /** Written when the first start finished: without it, a start finds a first start that was interrupted. */
  readonly created: string
  /** The pid of the `countersign dev` that runs on the folder: see `lock.ts`. */
  readonly lock: string
}

export function devLayout(dir: string): DevLayout {
  const root = resolve(dir)
  return {
    root,
    hub: join(root, 'hub'),
    hubConfig: join(root, 'hub', 'hub.yaml'),
    apiUsers: join(root, 'api-users'),
    handler: join(root, 'handler'),
    handlerDatabase: join(root, 'handler', 'countersign.db'),
    logs: join(root, 'logs'),
    state: join(root, 'dev.json'),
    created: join(root, 'created'),
    lock: join(root, 'dev.pid'),
  }
}

/**
 * The two API users and their co-signers: the first answers to the callback handler (and signs, holding
 * the workspace's first key sets), the second has none (its co-signer approves by itself).
 */
export interface DevSigner {
  readonly name: string
  readonly cosigner: string
  readonly callback: boolean
}

export const DEV_SIGNERS: readonly [DevSigner, DevSigner] = [
  { name: 'signer-a', cosigner: 'cosigner-a', callback: true },
  { name: 'signer-b', cosigner: 'cosigner-b', callback: false },
]

export const signerKeyPath = (layout: DevLayout, signer: DevSigner) =>
  join(layout.apiUsers, `${signer.name}.key`)

/** A co-signer's folder, and its file KEK beside it (not in it, as `cosigner pair --kek file` does). */
export const cosignerPaths = (layout: DevLayout, signer: DevSigner) => ({
  dir: join(layout.root, signer.cosigner),
  kek: join(layout.root, `${signer.cosigner}.kek`),
})

/**
 * Every path `countersign dev` writes in its folder but its lock (and only those: the folder may be any,
 * even `.`): what a start that finds an unfinished first start removes.
 */
export const devPaths = (layout: DevLayout): string[] => [
  layout.hub,
  layout.apiUsers,
  layout.handler,
  layout.logs,
  layout.state,
  layout.created,
  ...DEV_SIGNERS.flatMap((signer) => Object.values(cosignerPaths(layout, signer))),
]
