import { CompiledQuery } from 'kysely';
import type { Database, Executor } from './database.js';
import type { Session, SessionRow, User } from './schema.js';

function sessionOf(row: SessionRow): Session {
  return { ...row, amr: JSON.parse(row.amr) as string[] };
}

export async function insertSession(db: Executor, session: Session): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ ...session, amr: JSON.stringify(session.amr) })
    .execute();
}

export async function findSessionByTokenHash(db: Executor, tokenHash: string): Promise<Session | undefined> {
  const row = await db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row && sessionOf(row);
}

/** A session as a request sees it: no token hash, nothing here authenticates anyone. */
export type SessionRecord = Omit<Session, 'token_hash'>;
/** A user as a request sees them: no password hash (nor the sign-in's "set up again" mark, which only the password step reads). */
export type UserRecord = Omit<User, 'password_hash' | 'set_up_again_since'>;

export interface SessionLookup {
  session: SessionRecord;
  user: UserRecord;
  /** Role names held directly or through a group, sorted, each once. */
  roles: string[];
}

/**
 * The session check in one statement: the session, its user and the user's role names. A UNION
 * ALL of two indexed joins (direct roles, then roles through groups), so it is one round trip
 * on either database without a dialect's own aggregate function: the first branch always gives
 * one row for a known token (role null when there is none), the second one row per group role.
 * Hashes are not selected, so they never leave the database on this path.
 */
function sessionLookupQuery(db: Executor, tokenHash: string) {
  const sessionColumns = [
    'sessions.id as s_id',
    'sessions.user_id as s_user_id',
    'sessions.created_at as s_created_at',
    'sessions.last_seen_at as s_last_seen_at',
    'sessions.expires_at as s_expires_at',
    'sessions.ip as s_ip',
    'sessions.user_agent as s_user_agent',
    'sessions.amr as s_amr',
    'sessions.authenticated_at as s_authenticated_at',
    'sessions.password_at as s_password_at',
    'sessions.second_factor_at as s_second_factor_at',
    'sessions.revoked_at as s_revoked_at',
    'users.id as u_id',
    'users.org_id as u_org_id',
    'users.email as u_email',
    'users.email_normalized as u_email_normalized',
    'users.display_name as u_display_name',
    'users.time_zone as u_time_zone',
    'users.status as u_status',
    'users.password_changed_at as u_password_changed_at',
    'users.created_at as u_created_at',
    'users.totp_last_step as u_totp_last_step',
    'users.second_factor_failures as u_second_factor_failures',
    'users.second_factor_locked_until as u_second_factor_locked_until',
  ] as const;
  const direct = db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .leftJoin('user_roles', 'user_roles.user_id', 'users.id')
    .leftJoin('roles', 'roles.id', 'user_roles.role_id')
    .select([...sessionColumns, 'roles.name as role'])
    .where('sessions.token_hash', '=', tokenHash);
  const viaGroups = db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .innerJoin('group_members', 'group_members.user_id', 'users.id')
    .innerJoin('group_roles', 'group_roles.group_id', 'group_members.group_id')
    .innerJoin('roles', 'roles.id', 'group_roles.role_id')
    .select([...sessionColumns, 'roles.name as role'])
    .where('sessions.token_hash', '=', tokenHash);
  return direct.unionAll(viaGroups);
}

type SessionLookupRow = Awaited<ReturnType<ReturnType<typeof sessionLookupQuery>['execute']>>[number];

/**
 * The query is built and compiled once per database handle (the pool; a transaction compiles
 * its own) and run with each request's hash as its two parameters: no query building on the
 * hottest path. Both parameters are the token hash, the only values in the query.
 */
const compiledLookups = new WeakMap<Executor, CompiledQuery<SessionLookupRow>>();

/** The PostgreSQL server-side name of the prepared session lookup (one per connection). */
const PREPARED_LOOKUP = 'twofold_session_lookup';
const HEX_HASH = /^[0-9a-f]{64}$/;

/**
 * `database` is how the pool (not a transaction) is reached fastest:
 * - PostgreSQL: the statement is PREPAREd once per connection and EXECUTEd after that. Planning
 *   this two-branch join costs PostgreSQL several times its execution (about 1.5 of 3.7 ms a
 *   check on the bench machine) and a pg query is planned afresh every time; EXECUTE takes no
 *   bind parameters, so the hash (64 hex characters, checked) is written into it as a literal.
 * - SQLite: the statement runs at once on the connection (`readNow`), about 30 → 18 µs of CPU
 *   a check against Kysely's connection queue and driver layers, when no transaction is open.
 */
export async function findSessionLookup(db: Executor, tokenHash: string, database?: Pick<Database, 'dialect' | 'readNow'>): Promise<SessionLookup | undefined> {
  let compiled = compiledLookups.get(db);
  if (!compiled) {
    compiled = sessionLookupQuery(db, '').compile();
    if (compiled.parameters.length !== 2) throw new Error(`session lookup: expected 2 parameters, compiled ${compiled.parameters.length}`);
    compiledLookups.set(db, compiled);
  }
  const statement = compiled;
  const direct = database?.readNow && !db.isTransaction ? (database.readNow(statement.sql, [tokenHash, tokenHash]) as SessionLookupRow[] | undefined) : undefined;
  const { rows } = direct
    ? { rows: direct }
    : database?.dialect === 'postgres' && !db.isTransaction && HEX_HASH.test(tokenHash)
      ? await db.connection().execute(async (connection) => {
          const execute = () => connection.executeQuery<SessionLookupRow>(CompiledQuery.raw(`execute ${PREPARED_LOOKUP}('${tokenHash}', '${tokenHash}')`));
          try {
            return await execute();
          } catch (error) {
            // 26000: not prepared on this connection yet (a new connection, or the server restarted).
            if ((error as { code?: unknown }).code !== '26000') throw error;
            await connection.executeQuery(CompiledQuery.raw(`prepare ${PREPARED_LOOKUP} as ${statement.sql}`));
            return execute();
          }
        })
      : await db.executeQuery<SessionLookupRow>({ ...statement, parameters: [tokenHash, tokenHash] });
  const first = rows[0];
  if (!first) return undefined;
  const roles = [...new Set(rows.flatMap((r) => (r.role === null ? [] : [r.role])))].sort();
  return {
    session: {
      id: first.s_id,
      user_id: first.s_user_id,
      created_at: Number(first.s_created_at),
      last_seen_at: Number(first.s_last_seen_at),
      expires_at: Number(first.s_expires_at),
      ip: first.s_ip,
      user_agent: first.s_user_agent,
      amr: JSON.parse(first.s_amr) as string[],
      authenticated_at: Number(first.s_authenticated_at),
      password_at: first.s_password_at === null ? null : Number(first.s_password_at),
      second_factor_at: first.s_second_factor_at === null ? null : Number(first.s_second_factor_at),
      revoked_at: first.s_revoked_at === null ? null : Number(first.s_revoked_at),
    },
    user: {
      id: first.u_id,
      org_id: first.u_org_id,
      email: first.u_email,
      email_normalized: first.u_email_normalized,
      display_name: first.u_display_name,
      time_zone: first.u_time_zone,
      status: first.u_status,
      password_changed_at: Number(first.u_password_changed_at),
      created_at: Number(first.u_created_at),
      totp_last_step: first.u_totp_last_step === null ? null : Number(first.u_totp_last_step),
      second_factor_failures: Number(first.u_second_factor_failures),
      second_factor_locked_until: first.u_second_factor_locked_until === null ? null : Number(first.u_second_factor_locked_until),
    },
    roles,
  };
}

export async function touchSession(db: Executor, id: string, nowMs: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: nowMs }).where('id', '=', id).execute();
}

export async function updateSessionAuthentication(
  db: Executor,
  id: string,
  change: { tokenHash: string; amr: string[]; authenticatedAt: number; passwordAt?: number; secondFactorAt?: number },
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({
      token_hash: change.tokenHash,
      amr: JSON.stringify(change.amr),
      authenticated_at: change.authenticatedAt,
      ...(change.passwordAt !== undefined ? { password_at: change.passwordAt } : {}),
      ...(change.secondFactorAt !== undefined ? { second_factor_at: change.secondFactorAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function revokeSession(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('sessions').set({ revoked_at: nowMs }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function revokeUserSessions(db: Executor, userId: string, nowMs: number, exceptId?: string): Promise<number> {
  let q = db.updateTable('sessions').set({ revoked_at: nowMs }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function listActiveSessions(db: Executor, userId: string, nowMs: number, idleCutoffMs: number): Promise<Session[]> {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .where('last_seen_at', '>', idleCutoffMs)
    .orderBy('last_seen_at', 'desc')
    .execute();
  return rows.map(sessionOf);
}

/** When the user last opened a session with a second factor proven (any session, ended or not), or null. */
export async function latestSecondFactorSessionAt(db: Executor, userId: string): Promise<number | null> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.max('created_at').as('at'))
    .where('user_id', '=', userId)
    .where('second_factor_at', 'is not', null)
    .executeTakeFirst();
  return row?.at == null ? null : Number(row.at);
}
