/**
 * The admin user list picks a page's people one of two ways (see PER_ORGANISATION_PAGES_UP_TO):
 * organisation by organisation for a small tree, by an ordered walk of the email index for a big
 * one. Both must give the same pages: every person of the tree once, in email order, the "without
 * 2FA" filter applied, and nobody from outside the tree.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/store/index.js';
import { factors, organisations, users } from '../../src/store/index.js';
import { PER_ORGANISATION_PAGES_UP_TO } from '../../src/store/users.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';

const T0 = 1_750_000_000_000;
let location: TestDatabaseLocation;
let database: Database;
/** Per organisation id, its people as [email, has an active factor]. */
const people = new Map<string, Array<[string, boolean]>>();
const BIG_TREE = PER_ORGANISATION_PAGES_UP_TO + 2; // organisations below the big root

before(async () => {
  location = await freshDatabaseLocation();
  database = await openTestDatabase(location);
  const db = database.db;
  const org = async (id: string, parent: string | null) => {
    await organisations.insertOrganisation(db, { id, name: id, parent_id: parent, created_at: T0 });
    people.set(id, []);
  };
  await org('big', null);
  for (let i = 0; i < BIG_TREE; i++) await org(`big-${i}`, i < 10 ? 'big' : `big-${i % 10}`);
  await org('small', null);
  await org('small-child', 'small');
  await org('outside', null);
  let n = 0;
  for (const orgId of people.keys()) {
    // Between 0 and 3 people each; emails interleave across organisations.
    for (let k = 0; k < (orgId.startsWith('small') ? 3 : n % 4); k++) {
      const email = `p${String((n * 37 + k * 101) % 997).padStart(3, '0')}-${n}-${k}@example.com`;
      const id = `user-${n}-${k}`;
      const enrolled = (n + k) % 3 === 0;
      await users.insertUser(db, { id, org_id: orgId, email, email_normalized: email, display_name: email, time_zone: 'UTC', password_hash: 'x', status: 'active', password_changed_at: T0, created_at: T0, totp_last_step: null, second_factor_locked_until: null });
      if (enrolled) await factors.insertFactor(db, { id: `f-${id}`, user_id: id, type: 'totp', label: 'app', secret_encrypted: 'x', status: 'active', created_at: T0, expires_at: null, confirmed_at: T0, last_used_at: T0 });
      people.get(orgId)!.push([email, enrolled]);
    }
    n++;
  }
});

after(async () => {
  await database?.close();
  await location?.dispose();
});

function expected(orgIds: string[], withoutTwoFactor: boolean): string[] {
  return orgIds
    .flatMap((id) => people.get(id) ?? [])
    .filter(([, enrolled]) => !withoutTwoFactor || !enrolled)
    .map(([email]) => email)
    .sort();
}

async function allPages(rootOrgId: string, withoutTwoFactor: boolean): Promise<string[]> {
  const seen: string[] = [];
  let afterEmail: string | undefined;
  for (;;) {
    const page = await users.listUserStatusPage(database.db, { rootOrgId, withoutTwoFactor, limit: 7, afterEmail, dialect: database.dialect });
    seen.push(...page.map((r) => r.emailNormalized));
    for (const row of page) assert.equal(row.methods.length > 0, !!people.get(row.orgId)?.find(([e]) => e === row.emailNormalized)?.[1], row.email);
    if (page.length < 7) return seen;
    afterEmail = page[page.length - 1]!.emailNormalized;
  }
}

test(`a tree of more than ${PER_ORGANISATION_PAGES_UP_TO} organisations (the email-ordered walk): every page right`, async () => {
  const tree = [...people.keys()].filter((id) => id === 'big' || id.startsWith('big-'));
  assert.ok(tree.length > PER_ORGANISATION_PAGES_UP_TO);
  assert.ok(expected(tree, false).length > 50);
  assert.deepEqual(await allPages('big', false), expected(tree, false));
  assert.deepEqual(await allPages('big', true), expected(tree, true));
});

test('a small tree (organisation by organisation): every page right, with people of a sub-organisation', async () => {
  assert.ok(expected(['small-child'], false).length > 0, 'the sub-organisation has people');
  assert.deepEqual(await allPages('small', false), expected(['small', 'small-child'], false));
  assert.deepEqual(await allPages('small', true), expected(['small', 'small-child'], true));
  assert.deepEqual(await allPages('big-3', false), expected(['big-3', ...[...people.keys()].filter((id) => /^big-\d+$/.test(id) && Number(id.slice(4)) >= 10 && Number(id.slice(4)) % 10 === 3)], false));
});
