import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/store/index.js';
import { organisations } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';

let location: TestDatabaseLocation;
let database: Database;

before(async () => {
  location = await freshDatabaseLocation();
  database = await openTestDatabase(location);
});

after(async () => {
  await database?.close();
  await location?.dispose();
});

test('listSubtree gives an organisation and everything below it, at any depth, in one statement, and nothing beside it', async () => {
  const db = database.db;
  const org = async (name: string, parent: string | null) => {
    const id = randomUUID();
    await organisations.insertOrganisation(db, { id, name, parent_id: parent, created_at: 1 });
    return id;
  };
  const root = await org('Root', null);
  const child = await org('Child', root);
  const grandchild = await org('Grandchild', child);
  await org('Second child', root);
  const stranger = await org('Stranger', null);
  await org('Stranger child', stranger);

  const names = (await organisations.listSubtree(db, root)).map((o) => o.name).sort();
  assert.deepEqual(names, ['Child', 'Grandchild', 'Root', 'Second child']);
  assert.deepEqual((await organisations.listSubtree(db, child)).map((o) => o.id).sort(), [child, grandchild].sort());
  assert.deepEqual(await organisations.listSubtree(db, randomUUID()), []);
  assert.deepEqual(new Set((await organisations.listSubtree(db, root)).map((o) => o.id)), new Set(await organisations.subtreeIds(db, root)), 'the same tree as subtreeIds');
});
