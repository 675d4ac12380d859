#!/usr/bin/env bash
# One-off: gives the simulator a top-level home (sim/) and makes the test folders mirror src/.
# Run once on the merged tree, from anywhere inside it, with a clean work tree:
#   bash scripts/relayout.sh            # moves with git mv, rewrites paths, checks, leaves the result staged
#   bash scripts/relayout.sh --dry-run  # prints the moves only
# Then: npx tsc --noEmit -p tsconfig.json, a few tests, commit, and delete this script.
#
#   test/sim/            -> sim/                      the simulator (npm run sim), not a test
#   test/sim-apiserver/  -> test/sim/apiserver/       the simulator's own tests
#   test/sim-cluster/    -> test/sim/cluster/
#   test/sim-node/       -> test/sim/node/
#   test/sim-standins/   -> test/sim/standins/
#   test/contract/       -> test/sim/contract/        the sim API server checked against Kubernetes semantics
#   test/unit/           -> test/core/                (plan-report.test.ts -> test/report/)
#   test/cluster-effects/-> test/adapters/cluster/
#   test/adapters/*.ts   -> test/adapters/{cluster,transport,github,node}/
#   test/backup/fetch.test.ts         -> test/adapters/transport/
#   test/upgrade/stable-batches.test.ts -> test/commands/ (it tests src/commands/workers.ts)
#   test/action/         -> test/e2e/                 (bundle.test.ts: the packaged action)
# test/upgrade, test/backup, test/e2e and test/support stay.
#
# Relative module paths are rewritten from the moves themselves (every tracked .ts file: import/export
# ... from, import(), vi.mock(), new URL(x, import.meta.url), join/resolve(import.meta.dirname, ...)), so a
# file added on a branch is handled too. Paths from the repository root ('test/sim/...' joined to repoRoot,
# package.json scripts, READMEs, knip.jsonc) are rewritten by text. The script stops on the first error.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

dry=0
[[ "${1:-}" == "--dry-run" ]] && dry=1
if [[ $dry == 0 && -n "$(git status --porcelain --untracked-files=no)" ]]; then
  echo "relayout: the work tree has changes; commit or stash them first" >&2
  exit 1
fi
[[ -d test/sim && ! -e sim ]] || { echo "relayout: expected test/sim/ and no sim/ (already done?)" >&2; exit 1; }

moves="$(mktemp)"
dirs="$(mktemp)"
trap 'rm -f "$moves" "$dirs"' EXIT

# mv_file OLD NEW: one tracked file; a missing OLD is reported, not fatal (a branch may have removed it).
mv_file() {
  local old=$1 new=$2
  if ! git ls-files --error-unmatch -- "$old" >/dev/null 2>&1; then
    echo "relayout: skip $old (not tracked here)" >&2
    return 0
  fi
  [[ -e "$new" ]] && { echo "relayout: $new already exists" >&2; exit 1; }
  printf '%s\t%s\n' "$old" "$new" >>"$moves"
  if [[ $dry == 1 ]]; then echo "git mv $old $new"; return 0; fi
  mkdir -p "$(dirname "$new")"
  git mv -- "$old" "$new"
}

# mv_tree OLD NEW: every tracked file under OLD, keeping the structure below it.
mv_tree() {
  local old=$1 new=$2 f
  printf '%s\t%s\n' "$old" "$new" >>"$dirs"
  while IFS= read -r f; do mv_file "$f" "$new/${f#"$old"/}"; done < <(git ls-files -- "$old")
}

# Every file still under a folder that is emptied must be tracked, or it would be left behind.
for d in test/sim test/sim-apiserver test/sim-cluster test/sim-node test/sim-standins test/contract test/unit test/cluster-effects test/action; do
  if [[ -d $d && -n "$(git ls-files --others --exclude-standard -- "$d")" ]]; then
    echo "relayout: untracked files in $d:" >&2
    git ls-files --others --exclude-standard -- "$d" >&2
    exit 1
  fi
done

# Order matters: test/sim must be empty before test/sim/<part> is filled with the simulator's tests.
mv_tree test/sim sim
mv_tree test/sim-apiserver test/sim/apiserver
mv_tree test/sim-cluster test/sim/cluster
mv_tree test/sim-node test/sim/node
mv_tree test/sim-standins test/sim/standins
mv_tree test/contract test/sim/contract
mv_file test/unit/plan-report.test.ts test/report/plan-report.test.ts
mv_tree test/unit test/core
mv_tree test/cluster-effects test/adapters/cluster
mv_file test/adapters/cluster-map.test.ts test/adapters/cluster/cluster-map.test.ts
mv_file test/adapters/probe.test.ts test/adapters/node/probe.test.ts
for f in packages-apt packages-manager packages-rpm; do mv_file "test/adapters/$f.test.ts" "test/adapters/node/$f.test.ts"; done
mv_file test/upgrade/repo-switch.test.ts test/adapters/node/repo-switch.test.ts
mv_file test/adapters/pr-comment.test.ts test/adapters/github/pr-comment.test.ts
for f in known-hosts local quote ssh; do mv_file "test/adapters/$f.test.ts" "test/adapters/transport/$f.test.ts"; done
mv_file test/backup/fetch.test.ts test/adapters/transport/fetch.test.ts
mv_file test/upgrade/stable-batches.test.ts test/commands/stable-batches.test.ts
mv_tree test/action test/e2e
# Anything else left directly in test/adapters is reported: decide its folder by hand.
[[ $dry == 0 ]] && for f in test/adapters/*.ts; do [[ -e $f ]] && echo "relayout: left in place: $f (move it beside what it tests)" >&2; done

[[ $dry == 1 ]] && exit 0
# git mv leaves the emptied folders behind on disk
find test -depth -type d -empty -delete

# Relative module paths, computed from the moves.
node - "$moves" "$dirs" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path').posix;
const lines = (f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
const fileMoves = new Map(lines(process.argv[2]));
const dirMoves = lines(process.argv[3]).sort((a, b) => b[0].length - a[0].length);
const oldOf = new Map([...fileMoves].map(([o, n]) => [n, o]));
const moved = (p) => {
  if (fileMoves.has(p)) return fileMoves.get(p);
  for (const [o, n] of dirMoves) if (p === o || p.startsWith(o + '/')) return n + p.slice(o.length);
  return p;
};
const rel = (fromDir, to) => {
  let r = path.relative(fromDir, to) || '.';
  if (!r.startsWith('.')) r = './' + r;
  return r;
};
// spec: relative to the file's folder; returns the spec that reaches the same thing after the moves.
const respec = (oldFile, newFile, spec) => {
  const oldTarget = path.normalize(path.join(path.dirname(oldFile), spec));
  if (oldTarget.startsWith('..')) return spec; // outside the repository: leave it
  const wanted = rel(path.dirname(newFile), moved(oldTarget)) + (spec.endsWith('/') ? '/' : '');
  const same = path.normalize(path.join(path.dirname(newFile), spec)) === path.normalize(path.join(path.dirname(newFile), wanted));
  return same ? spec : wanted;
};
const files = execFileSync('git', ['ls-files', '*.ts', '*.mts', '*.js', '*.mjs'], { encoding: 'utf8' }).split('\n').filter((f) => f && !f.startsWith('dist/'));
let changed = 0;
for (const file of files) {
  const old = oldOf.get(file) ?? file;
  const text = readFileSync(file, 'utf8');
  let out = text.replace(/(\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bvi\.mock\(\s*|\bnew URL\(\s*)(['"])(\.\.?(?:\/[^'"\n]*)?)\2/gm, (m, pre, q, spec, offset, all) => {
    if (pre.startsWith('new URL') && !/^\s*,\s*import\.meta\.url/.test(all.slice(offset + m.length))) return m;
    return `${pre}${q}${respec(old, file, spec)}${q}`;
  });
  // join(import.meta.dirname, '..', '..', 'x') and join(import.meta.dirname, '../sim/cli.ts')
  out = out.replace(/import\.meta\.dirname((?:\s*,\s*(['"])[^'"\n]*\2)+)/g, (m, args) => {
    const segs = [...args.matchAll(/(['"])([^'"\n]*)\1/g)].map((s) => s[2]);
    const q = args.match(/['"]/)[0];
    const spec = segs.join('/');
    if (!spec.startsWith('.')) return m;
    const next = respec(old, file, spec);
    if (next === spec) return m;
    const parts = segs.length === 1 ? [next.replace(/^\.\//, '')] : next.split('/').filter((s) => s !== '.');
    return `import.meta.dirname, ${parts.map((s) => q + s + q).join(', ')}`;
  });
  if (out !== text) {
    writeFileSync(file, out);
    changed++;
  }
}
console.log(`relayout: rewrote relative paths in ${changed} files`);
EOF

# Paths from the repository root. '../test/sim/' (a relative import) is left to the rewrite above.
mapfile -t texts < <(git ls-files -- '*.ts' '*.md' '*.json' '*.jsonc' '*.yml' '*.yaml' '*.sh' '.ci/run' | grep -v -e '^dist/' -e '^package-lock.json$' -e '^scripts/relayout.sh$')
perl -pi -e 's{(?<!\.\./)(?<!\./)\btest/sim/}{sim/}g; s{`test/sim`}{`sim`}g' "${texts[@]}"
perl -pi -e 's{vitest run test/contract\b}{vitest run test/sim/contract}g' package.json
perl -0pi -e 's{"include": \["src", "test",}{"include": ["src", "sim", "test",}' tsconfig.json
[[ -f knip.jsonc ]] && perl -0pi -e 's{"project": \["src/\*\*/\*.ts",}{"project": ["src/**/*.ts", "sim/**/*.ts",}' knip.jsonc
git add -u

# Checks that need no build.
grep -q '"sim", "test"' tsconfig.json || { echo "relayout: tsconfig.json include not updated" >&2; exit 1; }
grep -q 'node sim/cli.ts' package.json || { echo "relayout: package.json sim script not updated" >&2; exit 1; }
if find sim -name '*.test.ts' | grep -q .; then echo "relayout: tests under sim/ would not run (vitest includes test/**)" >&2; exit 1; fi
if left=$(git grep -n -I -e 'test/sim-\(apiserver\|cluster\|node\|standins\)' -e 'test/unit/' -e 'test/cluster-effects' -e 'test/contract' -- . ':!dist' ':!package-lock.json' ':!scripts/relayout.sh'); then
  echo "relayout: old paths still named:" >&2; echo "$left" >&2; exit 1
fi
if left=$(git grep -n -I -e 'test/sim/\(index\.ts\|cli\.ts\|apiserver/main\.ts\|node/supervisor\.ts\|node/forced-command\.ts\|standins/main\.ts\|README\.md\)' -- . ':!dist' ':!package-lock.json' ':!scripts/relayout.sh'); then
  echo "relayout: simulator paths still under test/:" >&2; echo "$left" >&2; exit 1
fi
git status --short | awk '{print $1}' | sort | uniq -c
echo "relayout: done; now run npx tsc --noEmit -p tsconfig.json and a few tests, then commit and delete scripts/relayout.sh"
