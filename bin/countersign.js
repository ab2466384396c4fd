#!/usr/bin/env node
// The installed command. `npm ci` builds dist/ through the `prepare` script.
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv)
