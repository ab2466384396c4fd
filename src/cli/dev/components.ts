import { describeError } from '../../service/index.js'

/** A started service of the development system. */
export interface Component {
  readonly name: string
  close(): Promise<void>
  /** Settles when it stops on its own (a link runner whose token the hub refused), if it can. */
  readonly done?: Promise<void>
}

/**
 * The services started so far, stopped in the reverse order (co-signers before the hub they talk to),
 * whether start-up finished or failed half-way.
 */
export class Components {
  private readonly started: Component[] = []
  private closing: Promise<void> | undefined
  private stopOnItsOwn: (reason: string) => void = () => undefined
  /** Resolves with a reason when a service stops while nobody asked it to. */
  readonly ended = new Promise<string>((resolve) => (this.stopOnItsOwn = resolve))

  add(component: Component): void {
    this.started.push(component)
    component.done?.then(
      () => this.endedAlone(component.name, 'stopped'),
      (error: unknown) => this.endedAlone(component.name, describeError(error)),
    )
  }

  private endedAlone(name: string, reason: string): void {
    if (this.closing === undefined) this.stopOnItsOwn(`${name} stopped: ${reason}`)
  }

  /** Stops every service once, however often it is called; one that fails to stop does not keep the others up. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = []
      for (const component of [...this.started].reverse())
        await component.close().catch((error: unknown) => failures.push(error))
      if (failures.length > 0) throw failures[0]
    })()
    return this.closing
  }
}
