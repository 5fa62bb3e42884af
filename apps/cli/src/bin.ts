#!/usr/bin/env node
/**
 * The `ergon` executable.
 *
 * @module
 */
import { main } from './main.js';

const code = await main(process.argv);
// Exit once stdout has drained: open store connections or timers must not keep the process up.
process.stdout.write('', () => process.exit(code));
