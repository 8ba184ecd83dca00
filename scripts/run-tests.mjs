#!/usr/bin/env node
// Runs every suite on SQLite, then the database-backed suites again on PostgreSQL when
// TWOFOLD_TEST_DATABASE_URL is set, and ends with one "N passed, N failed" line for both.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const onlyPg = process.argv.includes('--pg');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.tsx'))
    .map((f) => join(dir, f))
    .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
    .sort();
}

const all = ['test/unit', 'test/delivery', 'test/store', 'test/services', 'test/http', 'test/cli', 'test/ops', 'test/e2e'].flatMap(files);
// Suites that touch a database run on both backends; pure unit tests and browser tests once.
const databaseSuites = ['test/store', 'test/services', 'test/http', 'test/cli', 'test/ops'].flatMap(files);

/**
 * The CLI, built once for this run into one file (esbuild, the compiler tsx uses, with the
 * project's tsconfig): the CLI and server-process suites start hundreds of processes, and each
 * one under tsx spends about 2 s of CPU loading TypeScript; from the bundle, about 0.7 s. A test
 * file run by itself, without this runner, starts `tsx src/cli.ts` instead (test/helpers/cli.ts).
 */
async function buildCliBundle() {
  const { build } = await import('esbuild');
  // Two levels under the root, so the bundle's `../../package.json` and bare imports resolve as from src/cli/.
  const dir = mkdtempSync(join('.test-tmp', 'cli-'));
  const outfile = join(dir, 'cli.mjs');
  await build({ entryPoints: ['src/cli.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
  return { dir, outfile: join(process.cwd(), outfile) };
}
mkdirSync('.test-tmp', { recursive: true });
const cliBundle = await buildCliBundle();
process.on('exit', () => rmSync(cliBundle.dir, { recursive: true, force: true }));

function runSuite(label, suiteFiles, env) {
  if (suiteFiles.length === 0) return { pass: 0, fail: 0 };
  console.log(`\n=== ${label}: ${suiteFiles.length} files ===`);
  // The spec report goes to stderr as it happens; the TAP report comes back on stdout, a pipe,
  // which --test-force-exit cannot cut short (a file destination loses its summary lines).
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=600000', '--test-reporter=spec', '--test-reporter-destination=stderr', '--test-reporter=tap', '--test-reporter-destination=stdout', ...suiteFiles],
    { stdio: ['inherit', 'pipe', 'inherit'], maxBuffer: 1 << 30, encoding: 'utf8', env: { ...process.env, TWOFOLD_TEST_CLI_BUNDLE: cliBundle.outfile, ...env } },
  );
  const text = result.stdout ?? '';
  const count = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const pass = count('pass');
  let fail = count('fail') + count('cancelled');
  if (result.status !== 0 && fail === 0) fail = 1; // a crash before any test reported
  return { pass, fail, failures: failedTests(text, label) };
}

// The failed tests, named with their file, so the last lines of a long run say what broke.
function failedTests(tap, label) {
  const lines = tap.split('\n');
  const out = [];
  lines.forEach((line, i) => {
    const m = line.match(/^(\s*)not ok \d+ - (.*)$/);
    if (!m) return;
    const location = lines.slice(i + 1, i + 12).find((l) => l.includes("location: '"));
    const where = location ? location.replace(/.*location: '(.*)'.*/, '$1').replace(process.cwd() + '/', '') : '';
    out.push(`${label}: ${m[2]}${where ? ` (${where})` : ''}`);
  });
  return out;
}

const totals = { pass: 0, fail: 0, failures: [] };
const add = (r) => {
  totals.pass += r.pass;
  totals.fail += r.fail;
  totals.failures.push(...(r.failures ?? []));
};

if (!onlyPg) add(runSuite('SQLite', all, { TWOFOLD_TEST_BACKEND: 'sqlite' }));
if (process.env.TWOFOLD_TEST_DATABASE_URL) {
  add(runSuite('PostgreSQL', databaseSuites, { TWOFOLD_TEST_BACKEND: 'postgres' }));
} else if (onlyPg) {
  console.error('test:pg needs TWOFOLD_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  process.exit(1);
} else {
  console.log('\n(PostgreSQL suites not run: set TWOFOLD_TEST_DATABASE_URL to run them too)');
}

if (totals.failures.length > 0) console.log(`\nFailed:\n${totals.failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${totals.pass} passed, ${totals.fail} failed`);
process.exit(totals.fail > 0 ? 1 : 0);
