import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = 'test/fixtures/processes/open-close-sqlite.ts';

function openAndCloseMany(file: string, rounds: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, String(rounds)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`child exited ${code}`))));
  });
}

// Each process closing its last connection checkpoints the WAL, and the next to open it runs
// recovery; both hold a lock for a moment. With no wait at open (busy_timeout 0 from the
// start) about one open in ten failed here with SQLITE_BUSY or SQLITE_BUSY_RECOVERY, which
// is how parallel CLI commands once printed "database is locked" instead of their own error.
test('processes opening and closing one SQLite file at once never see it busy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-open-race-'));
  try {
    const file = join(dir, 'race.db');
    const seed = new BetterSqlite3(file);
    seed.pragma('journal_mode = WAL');
    seed.exec('create table t (x integer)');
    seed.close();
    const results = await Promise.all(Array.from({ length: 5 }, () => openAndCloseMany(file, 150)));
    assert.deepEqual(results, Array.from({ length: 5 }, () => ({})));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
