import { CountersignError, defineErrorCodes } from '../core/index.js'

/** The codes of the command's own orchestration: `countersign dev` and `countersign dev demo`. */
export const CLI_ERRORS = defineErrorCodes('cli', {
  CS_DEV_NOT_RUNNING: {
    meaning:
      'no development system answers: its folder holds no dev.json (written once it is up, removed when it stops), or the hub it names does not answer',
    fix: 'start `countersign dev` in another terminal (with the same --dir), wait for its banner, then run the command again',
  },
  CS_DEV_RUNNING: {
    meaning: 'countersign dev already runs on this folder (its dev.pid names a live process)',
    fix: 'use the one that runs (stop it with Ctrl-C or SIGTERM to its pid first to restart it), or give another --dir',
  },
  CS_DEV_HUB_MOVED: {
    meaning:
      'countersign dev was asked to run its hub on another address than the one its co-signers were paired with',
    fix: 'start it with the --hub-listen it was created with (the listen: of <dir>/hub/hub.yaml), or delete the folder to start over',
  },
  CS_DEV_HUB_REFUSED: {
    meaning: 'the development hub refused or failed a call of countersign dev or dev demo',
    fix: "read the hub's answer in the message and <dir>/logs/hub.log; delete the folder to start over if it is from an older version",
  },
  CS_DEV_KEYS_LATE: {
    meaning:
      "the workspace's key generation (the first co-signer with the two cloud co-signers) did not finish in time",
    fix: 'read <dir>/logs/ (hub.log, cloud1.log, cloud2.log, cosigner-a.log), then start countersign dev again: a first start that did not finish starts over',
  },
})
export type CliErrorCode = keyof typeof CLI_ERRORS.codes

export class DevNotRunning extends CountersignError {
  readonly code = 'CS_DEV_NOT_RUNNING' satisfies CliErrorCode
}

export class DevAlreadyRunning extends CountersignError {
  readonly code = 'CS_DEV_RUNNING' satisfies CliErrorCode
}

export class DevHubMoved extends CountersignError {
  readonly code = 'CS_DEV_HUB_MOVED' satisfies CliErrorCode
}

export class DevHubRefused extends CountersignError {
  readonly code = 'CS_DEV_HUB_REFUSED' satisfies CliErrorCode
}

export class DevKeysLate extends CountersignError {
  readonly code = 'CS_DEV_KEYS_LATE' satisfies CliErrorCode
}
