// The fingerprint of what a native binary is built from: binding.gyp and every file under
// src-native/, hashed in a fixed order. scripts/prebuild.sh stores it beside each prebuilt
// binary, and the tests compare it with the sources of the day, so that a change to the
// C++ cannot ship with a binary built before it.
//
//   node scripts/native-sources-hash.mjs    prints the hash
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function filesUnder(dir) {
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = `${dir}/${entry.name}`;
      return entry.isDirectory() ? filesUnder(relative) : [relative];
    });
}

/** sha256 over each file's path and bytes (line endings as stored), in sorted path order. */
export function nativeSourcesHash() {
  const files = ['binding.gyp', ...filesUnder('src-native')].sort();
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${nativeSourcesHash()}\n`);
}
