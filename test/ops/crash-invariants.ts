/**
 * What must hold in the database however the server died: each check names the rows that break
 * it, so a failure says which write was torn.
 */
import { createLocalJWKSet, compactVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import type { Database, Executor } from '../../src/store/index.js';

interface AuditRow {
  event_type: string;
  details: Record<string, unknown>;
}

async function auditOf(db: Executor, types: string[]): Promise<AuditRow[]> {
  const rows = await db.selectFrom('audit_events').select(['event_type', 'details']).where('event_type', 'in', types).execute();
  return rows.map((r) => ({ event_type: r.event_type, details: JSON.parse(r.details) as Record<string, unknown> }));
}

function idsIn(rows: AuditRow[], type: string, key: string): Set<string> {
  return new Set(rows.filter((r) => r.event_type === type).map((r) => String(r.details[key])));
}

/**
 * Returns every broken invariant as a sentence; empty when the database is whole. The server may
 * be serving while this looks, so every query reads one snapshot: otherwise a sign-in committing
 * between the read of the events and the read of the sessions would look like a torn write.
 */
export async function brokenInvariants(database: Database, jwks: JSONWebKeySet): Promise<string[]> {
  const snapshot = database.db.transaction();
  // PostgreSQL: repeatable read is one snapshot for the whole transaction. SQLite: the transaction
  // holds the write lock, so nothing commits while it reads.
  return (database.dialect === 'postgres' ? snapshot.setIsolationLevel('repeatable read') : snapshot).execute((trx) => check(trx, jwks));
}

async function check(db: Executor, jwks: JSONWebKeySet): Promise<string[]> {
  const problems: string[] = [];
  const audit = await auditOf(db, ['factor.confirmed', 'sign_in.succeeded', 'deployment.created', 'backup_codes.generated', 'backup_codes.regenerated', 'admin.backup_codes_regenerated']);

  // 1. An active factor was confirmed, audited, and its owner holds backup codes.
  const confirmed = idsIn(audit, 'factor.confirmed', 'factorId');
  const active = await db.selectFrom('factors').select(['id', 'user_id', 'confirmed_at', 'expires_at']).where('status', '=', 'active').execute();
  for (const f of active) {
    if (f.confirmed_at === null) problems.push(`factor ${f.id} is active but was never confirmed`);
    if (f.expires_at !== null) problems.push(`factor ${f.id} is active but still carries an enrolment expiry`);
    if (!confirmed.has(f.id)) problems.push(`factor ${f.id} is active without its factor.confirmed event`);
  }
  const withCodes = new Set((await db.selectFrom('backup_codes').select('user_id').distinct().execute()).map((r) => r.user_id));
  for (const userId of new Set(active.map((f) => f.user_id))) {
    if (!withCodes.has(userId)) problems.push(`user ${userId} has an active factor but no backup codes`);
  }

  // 2. A backup code is spent exactly when a sign-in spent it: the used ones match the
  //    backup_code.used events of their owner, one for one.
  const used = await db.selectFrom('backup_codes').select(['user_id', db.fn.countAll<number>().as('n')]).where('used_at', 'is not', null).groupBy('user_id').execute();
  const spentEvents = await db
    .selectFrom('audit_events')
    .select(['subject_user_id', db.fn.countAll<number>().as('n')])
    .where('event_type', '=', 'backup_code.used')
    .groupBy('subject_user_id')
    .execute();
  const spentByUser = new Map(spentEvents.map((r) => [r.subject_user_id, Number(r.n)]));
  const usedByUser = new Map(used.map((r) => [r.user_id, Number(r.n)]));
  for (const userId of new Set([...spentByUser.keys(), ...usedByUser.keys()])) {
    if (userId === null) continue;
    const rows = usedByUser.get(userId) ?? 0;
    const events = spentByUser.get(userId) ?? 0;
    if (rows !== events) problems.push(`user ${userId}: ${rows} backup codes marked spent but ${events} backup_code.used events`);
  }

  // 3. Every session came from a sign-in that was recorded.
  const signedIn = idsIn(audit, 'sign_in.succeeded', 'sessionId');
  for (const s of await db.selectFrom('sessions').select('id').execute()) {
    if (!signedIn.has(s.id)) problems.push(`session ${s.id} has no sign_in.succeeded event`);
  }

  // 4. Every deployment has its event and a valid approval that names it.
  const deployed = idsIn(audit, 'deployment.created', 'deploymentId');
  const keys = createLocalJWKSet(jwks);
  for (const d of await db.selectFrom('deployments').select(['id', 'target_id', 'digest', 'approval']).execute()) {
    if (!deployed.has(d.id)) problems.push(`deployment ${d.id} has no deployment.created event`);
    try {
      const { payload } = await compactVerify(d.approval, keys);
      const claims = JSON.parse(new TextDecoder().decode(payload)) as { deployment?: string; digest?: string; target?: { id?: string } };
      if (claims.deployment !== d.id || claims.digest !== d.digest || claims.target?.id !== d.target_id) {
        problems.push(`deployment ${d.id}: its approval names deployment ${claims.deployment}, digest ${claims.digest}, target ${claims.target?.id}`);
      }
    } catch (error) {
      problems.push(`deployment ${d.id}: approval does not verify (${(error as Error).message})`);
    }
  }
  // 5. A provider's row and its history agree: created with its event, and its name is the one
  //    the last provider.created or provider.changed event recorded (a rename never lands alone).
  const providerEvents = await db
    .selectFrom('audit_events')
    .select(['event_type', 'details'])
    .where('event_type', 'in', ['provider.created', 'provider.changed'])
    .orderBy('id')
    .execute();
  const lastName = new Map<string, string>();
  const created = new Set<string>();
  for (const e of providerEvents) {
    const details = JSON.parse(e.details) as { providerId?: string; name?: string; after?: { name?: string } };
    const id = String(details.providerId);
    if (e.event_type === 'provider.created') created.add(id);
    const name = e.event_type === 'provider.created' ? details.name : details.after?.name;
    if (name !== undefined) lastName.set(id, name);
  }
  for (const p of await db.selectFrom('delivery_providers').select(['id', 'name']).execute()) {
    if (!created.has(p.id)) problems.push(`provider ${p.id} has no provider.created event`);
    else if (lastName.get(p.id) !== p.name) problems.push(`provider ${p.id} is named "${p.name}" but its last event says "${lastName.get(p.id)}"`);
  }

  const live = await db.selectFrom('deploy_targets').select(['id', 'current_deployment_id']).where('current_deployment_id', 'is not', null).execute();
  const deploymentIds = new Set((await db.selectFrom('deployments').select('id').execute()).map((r) => r.id));
  for (const t of live) if (!deploymentIds.has(t.current_deployment_id!)) problems.push(`target ${t.id} points at missing deployment ${t.current_deployment_id}`);
  return problems;
}
