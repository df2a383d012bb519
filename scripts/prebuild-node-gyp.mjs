#!/usr/bin/env node
// Stands in for node-gyp when prebuildify calls it (`rebuild --target=… --release`): the addon
// is built with cmake-js, into build/Release where prebuildify looks for it.
import { buildNative } from './build-native.mjs';

try {
  buildNative({ debug: process.argv.includes('--debug') });
} catch (err) {
  console.error(`model-audit: native build failed: ${err.message}`);
  process.exit(1);
}
