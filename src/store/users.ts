import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';
import { isSoleRoot, subtreeIds } from './organisations.js';
import type { FactorType, NewUser, User, UserStatus } from './schema.js';

export async function insertUser(db: Executor, user: NewUser): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function findUser(db: Executor, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Only the password hash: what a password check needs, where the rest of the user is already known. */
export async function findPasswordHash(db: Executor, id: string): Promise<string | undefined> {
  return (await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst())?.password_hash;
}

export async function findUserByEmail(db: Executor, emailNormalized: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setUserStatus(db: Executor, id: string, status: UserStatus): Promise<void> {
  await db.updateTable('users').set({ status }).where('id', '=', id).execute();
}

export async function setPasswordHash(db: Executor, id: string, hash: string, nowMs: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash, password_changed_at: nowMs }).where('id', '=', id).execute();
}

export async function setTimeZone(db: Executor, id: string, timeZone: string): Promise<void> {
  await db.updateTable('users').set({ time_zone: timeZone }).where('id', '=', id).execute();
}

/**
 * Records a TOTP time step as used, only if it is newer than any step used before.
 * One conditional UPDATE is atomic on both dialects, so of N concurrent requests carrying
 * the same code, on any number of nodes, exactly one sees a changed row.
 */
export async function claimTotpStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Compare-and-set of the second-factor lockout state: succeeds only if nobody changed the
 * failure count since it was read, so concurrent guesses cannot share one free attempt.
 */
export async function swapSecondFactorLockout(
  db: Executor,
  userId: string,
  expectedFailures: number,
  next: { failures: number; lockedUntil: number | null },
): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ second_factor_failures: next.failures, second_factor_locked_until: next.lockedUntil })
    .where('id', '=', userId)
    .where('second_factor_failures', '=', expectedFailures)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function resetSecondFactorLockout(db: Executor, userId: string): Promise<void> {
  await db.updateTable('users').set({ second_factor_failures: 0, second_factor_locked_until: null }).where('id', '=', userId).execute();
}

export interface UserListFilter {
  orgIds: string[];
  query?: string | undefined;
  limit: number;
  afterEmail?: string | undefined;
}

export async function listUsers(db: Executor, filter: UserListFilter): Promise<User[]> {
  if (filter.orgIds.length === 0) return [];
  let q = db.selectFrom('users').selectAll().where('org_id', 'in', filter.orgIds);
  if (filter.query) {
    const like = `%${filter.query.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    q = q.where((eb) => eb.or([eb('email_normalized', 'like', like), eb(eb.fn('lower', ['display_name']), 'like', like)]));
  }
  if (filter.afterEmail) q = q.where('email_normalized', '>', filter.afterEmail);
  return q.orderBy('email_normalized').limit(filter.limit).execute();
}

/** Every factor type, so the list query below asks for each (adding a type to FactorType fails to compile here until it is listed). */
const FACTOR_TYPES: Record<FactorType, true> = { totp: true, sms: true, email: true, webauthn: true };

export interface UserStatusFilter {
  /** The organisation whose tree is listed: joined in SQL (a recursive CTE), not passed as thousands of ids. */
  rootOrgId: string;
  query?: string | undefined;
  /** Only people without an active factor (NOT EXISTS, so it pages like the plain list). */
  withoutTwoFactor?: boolean | undefined;
  limit: number;
  afterEmail?: string | undefined;
  /** PostgreSQL takes the tree's ids as one array parameter (its planner then knows which organisations); SQLite joins the tree. */
  dialect?: DialectName | undefined;
}

/**
 * For a tree that is not everyone (see isSoleRoot): up to this many organisations in it, the
 * people of a page are picked organisation by organisation: each one's next `limit` people by (org_id, email_normalized), then the best
 * `limit` of those. That reads at most organisations × limit index entries however big any one
 * organisation is (a 200,000-person organisation's deep page included). A bigger tree walks
 * the email index in order and keeps the people of the tree, which stops after one page when
 * the tree holds a good share of everyone (the root admin's case).
 */
export const PER_ORGANISATION_PAGES_UP_TO = 100;

export interface UserStatusRow {
  id: string;
  orgId: string;
  email: string;
  emailNormalized: string;
  displayName: string;
  status: UserStatus;
  /** Kinds of active factors, in FactorType order, then 'push' for a paired phone (it lives outside the factors table). */
  methods: Array<FactorType | 'push'>;
  lastUsedAt: number | null;
  backupCodesLeft: number;
  /** A role the person holds (directly or through a group) requires 2FA. */
  roleRequiresTwoFactor: boolean;
}

/**
 * One page of the admin user list with each person's 2FA facts: the tree's organisation ids (one
 * statement), then the page (one statement): who is on it is picked as described at
 * PER_ORGANISATION_PAGES_UP_TO (a search goes through the trigram indexes and the tree as a
 * recursive CTE), the factor kinds, last use and unused backup codes are correlated subqueries
 * on indexed columns, and paging is by keyset on email_normalized. The "without 2FA" filter is a
 * NOT EXISTS, so a page is always full when there are enough people.
 */
export async function listUserStatusPage(db: Executor, filter: UserStatusFilter): Promise<UserStatusRow[]> {
  const types = Object.keys(FACTOR_TYPES) as FactorType[];
  let q = db
    .withRecursive('tree(id)', (qb) =>
      qb
        .selectFrom('organisations')
        .select('id')
        .where('id', '=', filter.rootOrgId)
        .unionAll((r) => r.selectFrom('organisations as o').innerJoin('tree', 'tree.id', 'o.parent_id').select('o.id')),
    )
    .selectFrom('users as u')
    .select(['u.id', 'u.org_id', 'u.email', 'u.email_normalized', 'u.display_name', 'u.status'])
    .select((eb) => [
      eb.selectFrom('factors as f').select((f) => f.fn.max('f.last_used_at').as('m')).whereRef('f.user_id', '=', 'u.id').where('f.status', '=', 'active').as('last_used_at'),
      eb.selectFrom('backup_codes as b').select((b) => b.fn.countAll().as('n')).whereRef('b.user_id', '=', 'u.id').where('b.used_at', 'is', null).as('backup_left'),
      eb
        .exists(
          eb
            .selectFrom('user_roles as ur')
            .innerJoin('role_policies as rp', 'rp.role_id', 'ur.role_id')
            .select('rp.role_id')
            .whereRef('ur.user_id', '=', 'u.id')
            .where('rp.require_two_factor', '=', 1),
        )
        .as('direct_role_requires'),
      eb
        .exists(
          eb
            .selectFrom('group_members as gm')
            .innerJoin('group_roles as gr', 'gr.group_id', 'gm.group_id')
            .innerJoin('role_policies as rp', 'rp.role_id', 'gr.role_id')
            .select('rp.role_id')
            .whereRef('gm.user_id', '=', 'u.id')
            .where('rp.require_two_factor', '=', 1),
        )
        .as('group_role_requires'),
      eb.selectFrom('approver_devices as a').select((a) => a.fn.countAll().as('n')).whereRef('a.user_id', '=', 'u.id').where('a.removed_at', 'is', null).as('phones'),
      // A count per kind, not EXISTS: PostgreSQL may run an EXISTS in the select list as one hashed
      // scan of every active factor of that kind (300,000 rows at a million people) for each page.
      ...types.map((type) =>
        eb
          .selectFrom('factors as f')
          .select((f) => f.fn.countAll().as('n'))
          .whereRef('f.user_id', '=', 'u.id')
          .where('f.status', '=', 'active')
          .where('f.type', '=', type)
          .as(`factors_${type}`),
      ),
    ]);
  // The sole root's tree is everyone: no organisation filter, so the page walks the email index
  // (a filter there made SQLite fetch and sort the whole tree for a first page).
  const everyone = await isSoleRoot(db, filter.rootOrgId);
  if (filter.query) {
    const like = `%${filter.query.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    q = q.where((eb) => eb.or([eb('u.email_normalized', 'like', like), eb(eb.fn('lower', ['u.display_name']), 'like', like)]));
    if (!everyone) q = q.where('u.org_id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'));
  } else if (!everyone) {
    // A search finds its few people through the trigram indexes; a plain page is picked here.
    const orgIds = await subtreeIds(db, filter.rootOrgId);
    if (orgIds.length === 0) return [];
    if (orgIds.length <= PER_ORGANISATION_PAGES_UP_TO) {
      const pageOf = (orgId: string) => {
        let page = db.selectFrom('users as p').select('p.id').where('p.org_id', '=', orgId);
        if (filter.afterEmail) page = page.where('p.email_normalized', '>', filter.afterEmail);
        if (filter.withoutTwoFactor) {
          page = page.where((eb) => eb.not(eb.exists(eb.selectFrom('factors as f').select('f.id').whereRef('f.user_id', '=', 'p.id').where('f.status', '=', 'active')))).where((eb) => eb.not(eb.exists(eb.selectFrom('approver_devices as a').select('a.id').whereRef('a.user_id', '=', 'p.id').where('a.removed_at', 'is', null))));
        }
        return page.orderBy('p.email_normalized').limit(filter.limit);
      };
      const [first, ...rest] = orgIds.map((orgId, i) => db.selectFrom(pageOf(orgId).as(`o${i}`)).select(`o${i}.id`));
      const candidates = rest.reduce((union, next) => union.unionAll(next), first!);
      q = q.where('u.id', 'in', candidates);
    } else if (filter.dialect === 'postgres') {
      q = q.where(sql<boolean>`${sql.ref('u.org_id')} = any(${orgIds}::text[])`);
    } else {
      q = q.where('u.org_id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'));
    }
  }
  if (filter.withoutTwoFactor) {
    // A paired phone is a second factor too (it lives outside the factors table).
    q = q.where((eb) => eb.not(eb.exists(eb.selectFrom('factors as f').select('f.id').whereRef('f.user_id', '=', 'u.id').where('f.status', '=', 'active'))));
    q = q.where((eb) => eb.not(eb.exists(eb.selectFrom('approver_devices as a').select('a.id').whereRef('a.user_id', '=', 'u.id').where('a.removed_at', 'is', null))));
  }
  if (filter.afterEmail) q = q.where('u.email_normalized', '>', filter.afterEmail);
  const rows = await q.orderBy('u.email_normalized').limit(filter.limit).execute();
  return rows.map((r) => {
    const flags = r as unknown as Record<string, unknown>;
    return {
      id: r.id,
      orgId: r.org_id,
      email: r.email,
      emailNormalized: r.email_normalized,
      displayName: r.display_name,
      status: r.status,
      methods: [...types.filter((type) => Number(flags[`factors_${type}`] ?? 0) > 0), ...(Number(r.phones ?? 0) > 0 ? (['push'] as const) : [])],
      lastUsedAt: r.last_used_at === null || r.last_used_at === undefined ? null : Number(r.last_used_at),
      backupCodesLeft: Number(r.backup_left ?? 0),
      roleRequiresTwoFactor: truthy(r.direct_role_requires) || truthy(r.group_role_requires),
    };
  });
}

/** EXISTS comes back as 0/1 from SQLite and true/false from PostgreSQL. */
function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

export async function setDisplayName(db: Executor, id: string, displayName: string): Promise<void> {
  await db.updateTable('users').set({ display_name: displayName }).where('id', '=', id).execute();
}

export async function setOrganisation(db: Executor, id: string, orgId: string): Promise<void> {
  await db.updateTable('users').set({ org_id: orgId }).where('id', '=', id).execute();
}

/** Accepting an invitation: the first password, and the account becomes active. */
export async function activateWithPassword(db: Executor, id: string, hash: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('users').set({ password_hash: hash, password_changed_at: nowMs, status: 'active' }).where('id', '=', id).where('status', '=', 'invited').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Removes the user row; sessions, factors, backup codes, trusted browsers, devices, roles and
 * memberships go with it (every table that names a user cascades). The audit log keeps its
 * events: they hold the id as plain text, not a foreign key.
 */
export async function deleteUser(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

/** Marks (a time) or clears (null) the request to set up a method again after an administrator's reset. */
export async function setSetUpAgain(db: Executor, userId: string, since: number | null): Promise<void> {
  await db.updateTable('users').set({ set_up_again_since: since }).where('id', '=', userId).execute();
}
