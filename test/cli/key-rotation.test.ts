import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { keyIdOf, parseSecretKey, sealedPrefixOf } from '../../src/core/crypto.js';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import { rotateSealedValues, valuesNotUnderCurrentKey } from '../../src/services/key-rotation.js';
import { SecretBox } from '../../src/core/crypto.js';
import { backupCodeContext, contextOfCell } from '../../src/services/secret-contexts.js';
import { SEALED_COLUMNS, listCells, replaceCell } from '../../src/store/sealed-columns.js';
import { legacySeal } from '../helpers/legacy-seal.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, withSchemasStable } from '../helpers/backend.js';
import { enrolledMember } from '../helpers/authenticator.js';
import { cliArgs, runCli } from '../helpers/cli.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { NEW_KEY, OLD_KEY, assertEverythingOpens, populate } from '../helpers/sealed-world.js';

const ROTATING = { TWOFOLD_SECRET_KEY: NEW_KEY, TWOFOLD_ACCEPTED_SECRET_KEYS: OLD_KEY };
const NEW_PREFIX = sealedPrefixOf(keyIdOf(parseSecretKey(NEW_KEY)));

async function sealedValues(server: TestServer): Promise<string[]> {
  const db = server.runtime.database.db;
  return [
    ...(await db.selectFrom('factors').select('secret_encrypted as v').execute()),
    ...(await db.selectFrom('backup_codes').select('code_encrypted as v').execute()),
    ...(await db.selectFrom('delivery_providers').select('config_encrypted as v').execute()),
    ...(await db.selectFrom('signing_keys').select('private_jwk_encrypted as v').execute()),
    ...(await db.selectFrom('oidc_payloads').select('payload as v').execute()),
    ...(await db.selectFrom('key_material').select('sealed as v').execute()),
  ].map((r) => r.v);
}

/**
 * Every string in every table, whatever the column: a sealed column that the rotation does not
 * know about (store/sealed-columns.ts) would leave old-key values here.
 */
async function everyStoredString(server: TestServer): Promise<string[]> {
  const db = server.runtime.database.db;
  const tables =
    server.runtime.database.dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows;
  const out: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    for (const row of rows) for (const value of Object.values(row)) if (typeof value === 'string') out.push(value);
  }
  return out;
}

/** A start with the old key alone must fail now: nothing is left that only it opens, and it opens nothing new. */
async function assertOldKeyAloneIsRefused(location: TestDatabaseLocation): Promise<void> {
  const config = loadConfig({ TWOFOLD_DATA_DIR: location.dataDir, TWOFOLD_SECRET_KEY: OLD_KEY, ...(location.databaseUrl ? { TWOFOLD_DATABASE_URL: location.databaseUrl } : {}) });
  await assert.rejects(
    withSchemasStable(location, () => openRuntime(config, location.postgresSchema ? { postgresSchema: location.postgresSchema } : {})),
    /none of the configured secret keys .* opens this database/,
  );
}

test(`keys rotate re-seals a populated database while the server serves; afterwards the old key can go (${currentBackend()})`, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const clock = new TestClock();

  const before = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
  const world = await populate(before, clock);
  await before.close();

  // Step 1: the node runs with the new key, the old one accepted; everything still works, mixed.
  const serving = await startTestServer({ location, clock, env: ROTATING });
  try {
    await assertEverythingOpens(serving, clock, world);
    assert.ok((await sealedValues(serving)).some((v) => !v.startsWith(NEW_PREFIX)), 'old values remain before the rotation');

    // Step 2: the rotation runs while people keep enrolling through the server.
    let enrolling = true;
    let enrolled = 0;
    const traffic = (async () => {
      while (enrolling) {
        await enrolledMember(serving, clock);
        enrolled++;
      }
    })();
    const rotated = await runCli(location, ['keys', 'rotate', '--batch-size', '2'], { env: ROTATING });
    enrolling = false;
    await traffic;
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^resealed factor: [1-9]\d*$/m);
    assert.match(rotated.stdout, /^resealed key-material: 1$/m);
    assert.match(rotated.stdout, new RegExp(`every sealed value is under key ${keyIdOf(parseSecretKey(NEW_KEY))}`));
    assert.ok(enrolled > 0, 'the server took writes during the rotation');
    const values = await sealedValues(serving);
    assert.deepEqual(values.filter((v) => !v.startsWith(NEW_PREFIX)), []);
    const oldPrefix = sealedPrefixOf(keyIdOf(parseSecretKey(OLD_KEY)));
    const everywhere = await everyStoredString(serving);
    assert.ok(everywhere.filter((v) => v.startsWith(NEW_PREFIX)).length >= values.length);
    assert.deepEqual(everywhere.filter((v) => v.startsWith(oldPrefix) || /^v1\.[\w-]{30,}$/.test(v)), [], 'no value anywhere is still under the old key');
    await assertEverythingOpens(serving, clock, world);

    // Running it again finds nothing to do.
    const again = await runCli(location, ['keys', 'rotate'], { env: ROTATING });
    assert.equal(again.code, 0, again.stderr);
    for (const column of SEALED_COLUMNS) assert.match(again.stdout, new RegExp(`^resealed ${column}: 0$`, 'm'));
  } finally {
    await serving.close();
  }

  // Step 3: the old key is removed.
  const after = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: NEW_KEY } });
  try {
    await assertEverythingOpens(after, clock, world);
  } finally {
    await after.close();
  }
  const status = await runCli(location, ['keys', 'status'], { env: { TWOFOLD_SECRET_KEY: NEW_KEY } });
  assert.equal(status.code, 0, status.stderr);
  for (const column of SEALED_COLUMNS) assert.match(status.stdout, new RegExp(`^not yet under it: ${column} 0$`, 'm'));
  await assertOldKeyAloneIsRefused(location);
});

test(`a rotation stopped half-way resumes where it stopped (${currentBackend()})`, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const clock = new TestClock();

  const before = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
  const world = await populate(before, clock);
  for (let i = 0; i < 3; i++) await enrolledMember(before, clock);
  await before.close();

  const serving = await startTestServer({ location, clock, env: ROTATING });
  try {
    const total = (await sealedValues(serving)).length;
    // A crash after the third batch of one value each.
    let batches = 0;
    await assert.rejects(
      rotateSealedValues(serving.runtime.database, serving.runtime.box, {
        batchSize: 1,
        afterBatch: () => {
          if (++batches === 3) throw new Error('killed');
        },
      }),
      /killed/,
    );
    const left = Object.values(await valuesNotUnderCurrentKey(serving.runtime.database, serving.runtime.box)).reduce((a, b) => a + b, 0);
    assert.equal(left, total - 3, 'three values were re-sealed before the stop, the rest not');
    // Half-rotated, the server still opens everything.
    await assertEverythingOpens(serving, clock, world);

    const leftNow = Object.values(await valuesNotUnderCurrentKey(serving.runtime.database, serving.runtime.box)).reduce((a, b) => a + b, 0);
    const resumed = await runCli(location, ['keys', 'rotate'], { env: ROTATING });
    assert.equal(resumed.code, 0, resumed.stderr);
    const resealed = [...resumed.stdout.matchAll(/^resealed \S+: (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(resealed, leftNow, 'the second run re-seals only what the first left');
  } finally {
    await serving.close();
  }

  const after = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: NEW_KEY } });
  try {
    await assertEverythingOpens(after, clock, world);
  } finally {
    await after.close();
  }
});

test('keys rotate explains a value that no configured key opens', async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const clock = new TestClock();
  const server = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
  try {
    await populate(server, clock);
    // A factor sealed under a key nobody configured (e.g. a restore from another installation).
    const stranger = await startTestServer({ clock, env: { TWOFOLD_SECRET_KEY: 'd'.repeat(64) } });
    const foreign = stranger.runtime.box.encrypt('JBSWY3DPEHPK3PXP', 'totp:x');
    await stranger.close();
    await server.runtime.database.db.updateTable('factors').set({ secret_encrypted: foreign }).execute();
  } finally {
    await server.close();
  }
  const r = await runCli(location, ['keys', 'rotate'], { env: ROTATING });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^twofold: factor .* does not open with any configured key: add the key it was sealed with to TWOFOLD_ACCEPTED_SECRET_KEYS\n$/);
});

test(`a database from before key ids (v1 values, no derivation key recorded) upgrades, then rotates (${currentBackend()})`, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const clock = new TestClock();
  const oldKey = parseSecretKey(OLD_KEY);

  // What the previous release left: every value sealed in the v1 format, and no key_material row.
  const before = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
  const world = await populate(before, clock);
  const box = new SecretBox(oldKey);
  const db = before.runtime.database.db;
  let downgraded = 0;
  for (const column of SEALED_COLUMNS.filter((c) => c !== 'key-material')) {
    for (const cell of await listCells(db, column, { limit: 10_000 })) {
      const context = contextOfCell(cell.ref);
      assert.ok(await replaceCell(db, cell, legacySeal(oldKey, box.decrypt(cell.sealed, context), context)));
      downgraded++;
    }
  }
  await db.deleteFrom('key_material').execute();
  await before.close();
  assert.ok(downgraded >= 10);

  // Starting straight away with two keys is refused: which one made the lookup hashes is unknown.
  const config = loadConfig({ TWOFOLD_DATA_DIR: location.dataDir, ...ROTATING, ...(location.databaseUrl ? { TWOFOLD_DATABASE_URL: location.databaseUrl } : {}) });
  await assert.rejects(
    withSchemasStable(location, () => openRuntime(config, location.postgresSchema ? { postgresSchema: location.postgresSchema } : {})),
    /start this version once with TWOFOLD_SECRET_KEY alone/,
  );

  // The upgrade: one start with the old key reads the v1 values and records the derivation key.
  const upgraded = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
  try {
    await assertEverythingOpens(upgraded, clock, world);
  } finally {
    await upgraded.close();
  }

  const rotated = await runCli(location, ['keys', 'rotate'], { env: ROTATING });
  assert.equal(rotated.code, 0, rotated.stderr);
  const resealed = [...rotated.stdout.matchAll(/^resealed \S+: (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  assert.ok(resealed >= downgraded + 1, `${resealed} re-sealed, ${downgraded} were v1`);

  const after = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: NEW_KEY } });
  try {
    await assertEverythingOpens(after, clock, world);
    assert.deepEqual((await everyStoredString(after)).filter((v) => /^v1\.[\w-]{30,}$/.test(v)), []);
  } finally {
    await after.close();
  }
});

/** `twofold keys rotate` as a child process the test can kill (runCli waits for the end). */
function spawnRotation(location: TestDatabaseLocation, args: string[]): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ROTATING, TWOFOLD_DATA_DIR: location.dataDir };
  delete env.TWOFOLD_DATABASE_URL;
  if (location.databaseUrl && location.postgresSchema) {
    const url = new URL(location.databaseUrl);
    url.searchParams.set('options', `-c search_path=${location.postgresSchema}`);
    env.TWOFOLD_DATABASE_URL = url.toString();
  }
  return spawn(process.execPath, cliArgs(...args), { cwd: new URL('../../', import.meta.url), env, stdio: ['ignore', 'ignore', 'pipe'] });
}

test(`keys rotate killed with SIGKILL mid-way resumes on the next run (${currentBackend()})`, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const clock = new TestClock();
  const world = await (async () => {
    // Sealed under the old key, as a database before the rotation is.
    const before = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: OLD_KEY } });
    try {
      const populated = await populate(before, clock);
      const oldBox = before.runtime.box;
      const rows = Array.from({ length: 3000 }, (_, i) => ({
        id: `extra-${String(i).padStart(5, '0')}`,
        user_id: populated.member.user.id,
        code_hash: `unused-${i}`,
        code_encrypted: oldBox.encrypt(`code-${i}`, backupCodeContext(populated.member.user.id)),
        created_at: clock.now(),
        used_at: clock.now(),
      }));
      for (let i = 0; i < rows.length; i += 500) await before.runtime.database.db.insertInto('backup_codes').values(rows.slice(i, i + 500)).execute();
      return populated;
    } finally {
      await before.close();
    }
  })();
  const server = await startTestServer({ location, clock, env: ROTATING });
  let serving = true;
  t.after(async () => {
    if (serving) await server.close();
  });
  const left = async () => Object.values(await valuesNotUnderCurrentKey(server.runtime.database, server.runtime.box)).reduce((a, b) => a + b, 0);
  const total = await left();

  const child = spawnRotation(location, ['keys', 'rotate', '--batch-size', '1']);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      ended = { code, signal };
      resolve(ended);
    }),
  );
  // Kill it once it has re-sealed something, well before it could finish.
  const deadline = Date.now() + 120_000;
  while (ended === null && (await left()) === total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  const end = await exited;
  assert.equal(end.signal, 'SIGKILL', `the rotation ended by itself (exit ${end.code}): ${stderr.slice(-2000)}`);
  const afterKill = await left();
  assert.ok(afterKill > 0 && afterKill < total, `killed half-way: ${afterKill} of ${total} left`);
  await assertEverythingOpens(server, clock, world);

  const resumed = await runCli(location, ['keys', 'rotate'], { env: ROTATING });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(await left(), 0);
  serving = false;
  await server.close();
  const after = await startTestServer({ location, clock, env: { TWOFOLD_SECRET_KEY: NEW_KEY } });
  try {
    await assertEverythingOpens(after, clock, world);
    const revealed = await after.services.backupCodes.reveal(world.member.user.id);
    assert.ok(revealed.length >= 3000);
  } finally {
    await after.close();
  }
});
