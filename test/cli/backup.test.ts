import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation } from '../helpers/backend.js';
import type { CliResult } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import type { SealedWorld } from '../helpers/sealed-world.js';
import { OLD_KEY, assertEverythingOpens, populate } from '../helpers/sealed-world.js';

const SYSTEM = { userId: null, meta: null };

let location: TestDatabaseLocation;
let backupFile: string;
const clock = new TestClock();

before(async () => {
  location = await freshDatabaseLocation();
  backupFile = join(location.dataDir, '..', `${location.dataDir.split('/').pop()}-backup.${currentBackend() === 'sqlite' ? 'sqlite' : 'dump'}`);
});
after(() => location.dispose());

function cli(args: string[], key = OLD_KEY): Promise<CliResult> {
  return runCli(location, args, { env: { TWOFOLD_SECRET_KEY: key } });
}

function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function userCount(server: TestServer): Promise<number> {
  const row = await server.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe(`backup and restore (${currentBackend()})`, () => {
  let world: SealedWorld;
  let before: number;
  let afterBackup: number;

  test('backup while the server writes, then verify-backup: schema latest, every sealed kind opens, counts', async () => {
    const server = await startTestServer({ location, clock });
    try {
      world = await populate(server, clock);
      const org = await server.services.accounts.createOrganisation('Writers', null, SYSTEM);
      before = await userCount(server);
      // Writers keep adding people for as long as the backup runs.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          await server.services.accounts.createUser({ orgId: org.id, email: `w${written}@example.com`, password: 'correct horse battery staple 42' }, SYSTEM);
          written++;
        }
      })();
      const backup = await cli(['backup', '--out', backupFile]);
      writing = false;
      await writer;
      afterBackup = await userCount(server);
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /wrote (SQLite|pg_dump) backup to /);
      assert.ok(written > 0, 'the server wrote while the backup ran');
      assert.ok(existsSync(backupFile));

      const again = await cli(['backup', '--out', backupFile]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
    } finally {
      await server.close();
    }

    const digestBefore = fileDigest(backupFile);
    const verified = await cli(['verify-backup', backupFile]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.equal(fileDigest(backupFile), digestBefore, 'checking a backup does not change it');
    assert.match(verified.stdout, /^schema: \S+ \(latest\)$/m);
    for (const column of ['factor', 'backup-code', 'provider', 'signing-key', 'oidc-payload', 'key-material']) {
      assert.match(verified.stdout, new RegExp(`^sealed ${column}: [1-9]\\d* of \\d+ checked, all open$`, 'm'), verified.stdout);
    }
    const holds = /^holds: (\d+) users, (\d+) factors \((\d+) active\), (\d+) live sessions$/m.exec(verified.stdout);
    assert.ok(holds, verified.stdout);
    // A consistent copy: some moment between the start and the end of the backup.
    const users = Number(holds[1]);
    assert.ok(users >= before && users <= afterBackup, `${users} users, between ${before} and ${afterBackup}`);
    assert.equal(Number(holds[2]), 1);
    assert.ok(Number(holds[4]) >= 1);
    assert.match(verified.stdout, /^ok$/m);
  });

  test('verify-backup with another key fails and says which values do not open', async () => {
    const wrong = await cli(['verify-backup', backupFile], 'b'.repeat(64));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^twofold: backup check failed: .*do not open with the configured key/);
    assert.match(wrong.stdout, /^sealed factor: 1 of 1 do not open$/m);
  });

  test('without pg_dump on the PATH, backup says so and how to do it by hand', { skip: currentBackend() !== 'postgres' }, async () => {
    const r = await runCli(location, ['backup', '--out', `${backupFile}.2`], { env: { TWOFOLD_SECRET_KEY: OLD_KEY, PATH: '/nonexistent' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^twofold: pg_dump is not on the PATH: .* by hand: pg_dump --format=custom .*"\$TWOFOLD_DATABASE_URL"/);
    assert.equal(existsSync(`${backupFile}.2`), false);
  });

  test('verify-backup refuses a file that is no backup', async () => {
    const notBackup = join(location.dataDir, 'notes.txt');
    await import('node:fs').then((fs) => fs.writeFileSync(notBackup, 'hello'));
    const r = await cli(['verify-backup', notBackup]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /neither a Twofold SQLite backup nor a pg_dump/);
  });

  test('restore refuses a database that holds data; --force replaces it; the restored copy signs in', async () => {
    const refused = await cli(['restore', '--from', backupFile]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty: pass --force/);

    // Something happens after the backup: it must be gone after the restore.
    const later = await startTestServer({ location, clock });
    try {
      const org = await later.services.accounts.createOrganisation('After the backup', null, SYSTEM);
      await later.services.accounts.createUser({ orgId: org.id, email: 'late@example.com', password: 'correct horse battery staple 42' }, SYSTEM);
    } finally {
      await later.close();
    }

    const restored = await cli(['restore', '--from', backupFile, '--force']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored /);

    const server = await startTestServer({ location, clock });
    try {
      const late = await server.runtime.database.db.selectFrom('users').select('id').where('email', '=', 'late@example.com').executeTakeFirst();
      assert.equal(late, undefined, 'a user made after the backup is gone');
      const users = await userCount(server);
      assert.ok(users >= before && users <= afterBackup);
      await assertEverythingOpens(server, clock, world);
    } finally {
      await server.close();
    }
  });

  test('restore into an empty database needs no --force', async () => {
    await emptyTheDatabase(location);
    const restored = await cli(['restore', '--from', backupFile]);
    assert.equal(restored.code, 0, restored.stderr);
    const server = await startTestServer({ location, clock });
    try {
      await assertEverythingOpens(server, clock, world);
    } finally {
      await server.close();
    }
  });
});

/** What a new machine looks like: no database file, or an empty schema. */
async function emptyTheDatabase(where: TestDatabaseLocation): Promise<void> {
  if (!where.databaseUrl) {
    const fs = await import('node:fs');
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(join(where.dataDir, `twofold.sqlite${suffix}`), { force: true });
    return;
  }
  const client = new pg.Client({ connectionString: where.databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema ${where.postgresSchema} cascade`);
    await client.query(`create schema ${where.postgresSchema}`);
  } finally {
    await client.end();
  }
}
