// Paths given relative to GITHUB_WORKSPACE (the inventory file, a relative rollback-source) must stay inside
// it after every symlink is resolved: a lexical check alone lets `inventory.yaml -> /etc/…` or a linked folder
// out. Pure apart from the `realpath` the caller passes (fs.realpathSync.native in the action, a fake or a real
// temporary tree in tests). Parts of the path that do not exist yet are resolved from their deepest existing
// ancestor, so a missing file is still contained by where it would be.
import path from 'node:path';
import { quoteValue } from './errors.ts';
import { fail, type Fail } from './input-field.ts';

export type RealPath = (absolutePath: string) => string;

/** The real path of `absolute`: its deepest existing ancestor resolved, the missing rest appended. */
function realPathOf(absolute: string, realpath: RealPath): string {
  const missing: string[] = [];
  let probe = absolute;
  for (;;) {
    try {
      return path.join(realpath(probe), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(probe);
      if (parent === probe) return absolute;
      missing.unshift(path.basename(probe));
      probe = parent;
    }
  }
}

interface WorkspacePath {
  /** the real absolute path (symlinks resolved) */
  absolute: string;
  /** relative to the workspace's real path */
  relative: string;
}

/**
 * Resolves `value` (relative to `workspace`) and checks that it stays inside it, lexically and after symlinks.
 * `what` names the thing for the fix ("the inventory file"); `allowRoot` accepts the workspace itself (a folder).
 */
export function resolveInWorkspace(
  value: string,
  workspace: string,
  realpath: RealPath,
  opts: { fix: string; allowRoot?: boolean },
): WorkspacePath | Fail {
  const lexicalRoot = path.resolve(workspace);
  const lexical = path.resolve(lexicalRoot, value);
  const inside = (root: string, target: string) => {
    const relative = path.relative(root, target);
    const ok = (relative !== '' || opts.allowRoot === true) && !relative.startsWith('..') && !path.isAbsolute(relative);
    return { ok, relative };
  };
  if (!inside(lexicalRoot, lexical).ok) return fail(`path ${quoteValue(value)} is outside the workspace ${lexicalRoot}`, opts.fix);
  let root: string;
  let absolute: string;
  try {
    root = realPathOf(lexicalRoot, realpath);
    absolute = realPathOf(lexical, realpath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(`path ${quoteValue(value)} cannot be resolved (${code ?? (error as Error).message})`, opts.fix);
  }
  const real = inside(root, absolute);
  if (!real.ok)
    return fail(
      `path ${quoteValue(value)} is outside the workspace ${lexicalRoot}: it resolves to ${quoteValue(absolute, 120)} through a symlink`,
      opts.fix,
    );
  return { absolute, relative: real.relative };
}
