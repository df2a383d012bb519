#!/usr/bin/env node
/**
 * The `model-audit` executable. npm links it through a symlink (node_modules/.bin, npx, a global
 * install), so it must not ask whether it is the main module: it always runs the command.
 */
import { main } from './cli.js';

process.exitCode = await main(process.argv);
