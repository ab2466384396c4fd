// The `countersign` command run from source (tsx), so the benchmark measures this checkout, not a stale dist/.
import { main } from '../../src/cli/index.js'

process.exitCode = await main(process.argv)
