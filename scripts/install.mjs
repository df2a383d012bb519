// npm install: use a prebuild for this platform when there is one, else build the addon.
// MODEL_AUDIT_BUILD_FROM_SOURCE=1 always builds.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = existsSync(prebuildDir) && readdirSync(prebuildDir).some((f) => f.endsWith('.node'));

if (process.platform !== 'linux') {
  console.warn(`model-audit: ${process.platform} is not supported yet (Linux x64 and arm64 are); skipping the native build`);
} else if (hasPrebuild && !process.env.MODEL_AUDIT_BUILD_FROM_SOURCE) {
  console.log(`model-audit: using the prebuild in ${prebuildDir}`);
} else {
  try {
    buildNative();
  } catch (err) {
    console.error(`model-audit: native build failed: ${err.message}`);
    process.exit(1);
  }
}
