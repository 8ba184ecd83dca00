#!/usr/bin/env node
// Runs every suite on SQLite, then the database-backed suites again on PostgreSQL when
// TWOFOLD_TEST_DATABASE_URL is set, and ends with one "N passed, N failed" line for both.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const all = ['test/unit', 'test/delivery', 'test/store', 'test/services', 'test/http', 'test/cli', 'test/e2e'].flatMap(files);
// Suites that touch a database run on both backends; pure unit tests and browser tests once.
const databaseSuites = ['test/store', 'test/services', 'test/http', 'test/cli'].flatMap(files);

function runSuite(label, suiteFiles, env) {
  if (suiteFiles.length === 0) return { pass: 0, fail: 0 };
  console.log(`\n=== ${label}: ${suiteFiles.length} files ===`);
  const tap = join(mkdtempSync(join(tmpdir(), 'twofold-tap-')), 'out.tap');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...suiteFiles],
    { stdio: 'inherit', env: { ...process.env, ...env } },
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const pass = count('pass');
  let fail = count('fail') + count('cancelled');
  if (result.status !== 0 && fail === 0) fail = 1; // a crash before any test reported
  return { pass, fail };
}

const totals = { pass: 0, fail: 0 };
const add = (r) => {
  totals.pass += r.pass;
  totals.fail += r.fail;
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

console.log(`\n${totals.pass} passed, ${totals.fail} failed`);
process.exit(totals.fail > 0 ? 1 : 0);
