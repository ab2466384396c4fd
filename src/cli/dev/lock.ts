import { open, readFile, rm } from 'node:fs/promises'
import { errnoCode } from '../../core/index.js'
import { DevAlreadyRunning } from '../errors.js'

/** Whether a process with this id runs (a signal 0 is only checked, never sent). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoCode(error) === 'EPERM'
  }
}

/**
 * Takes the folder for this process: `dev.pid` created exclusively, holding its pid. A second
 * `countersign dev` on the same folder is refused while the first runs (it would reuse, or start over, a
 * folder in use); a file left by a process that died is taken over. Answers the release.
 */
export async function lockFolder(path: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return () => rm(path, { force: true })
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (Number.isInteger(holder) && holder > 0 && alive(holder))
      throw new DevAlreadyRunning(`countersign dev already runs on this folder (pid ${holder}, ${path})`)
    await rm(path, { force: true })
  }
}
