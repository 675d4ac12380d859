// Byte-for-byte snapshot of a directory tree, to prove a command changed nothing.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function snapshot(dir: string, skip: (path: string) => boolean = () => false): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (current: string) => {
    if (!existsSync(current)) return;
    for (const name of readdirSync(current)) {
      const full = join(current, name);
      const rel = relative(dir, full);
      if (skip(rel)) continue;
      if (statSync(full).isDirectory()) {
        files[`${rel}/`] = '';
        walk(full);
      } else files[rel] = readFileSync(full, 'base64');
    }
  };
  walk(dir);
  return files;
}
