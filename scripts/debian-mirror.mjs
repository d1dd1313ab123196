// The Debian mirror this machine's apt is set up with, for the build scripts that fetch from
// Debian too (other suites' sources, another release's root): they use what the system uses.
//
//   node scripts/debian-mirror.mjs [main|security]   prints the archive's URI
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The system's deb entries, from sources.list and the deb822 .sources files. */
function aptEntries() {
  const entries = [];
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [])];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
        if (!field('Types').includes('deb')) continue;
        for (const uri of field('URIs')) entries.push({ uri, suites: field('Suites') });
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (match) entries.push({ uri: match[1], suites: [match[2]] });
      }
    }
  }
  return entries;
}

/** The URI of the main or security archive of this release, as apt is told to use it. */
export function debianMirror(archive = 'main') {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
  const suite = archive === 'security' ? `${codename}-security` : codename;
  const uri = aptEntries().find((entry) => entry.suites.includes(suite))?.uri;
  if (uri === undefined) throw new Error(`no Debian ${archive} archive for ${codename} in /etc/apt`);
  return uri;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${debianMirror(process.argv[2] ?? 'main')}\n`);
}
