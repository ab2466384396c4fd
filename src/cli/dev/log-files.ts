import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { createServiceLogger } from '../../service/index.js'

/**
 * One JSON log file per service of the development system (`<dir>/logs/hub.log`, …), appended to across
 * starts: the terminal keeps the banner and the progress lines only.
 */
export class LogFiles {
  private readonly dir: string
  private readonly streams: WriteStream[] = []

  constructor(dir: string) {
    this.dir = dir
  }

  logger(file: string, service: string): Logger {
    const stream = createWriteStream(join(this.dir, `${file}.log`), { flags: 'a', mode: 0o600 })
    this.streams.push(stream)
    return createServiceLogger({ service, level: 'info', destination: stream })
  }

  /** Flushes and closes every file, once the services have stopped writing. */
  async close(): Promise<void> {
    await Promise.all(this.streams.map((stream) => new Promise<void>((done) => stream.end(done))))
  }
}
