import type { CodeOf } from '../core/errors.js';
import { forbidden, notFound } from '../core/errors.js';
import type { Executor, Organisation, User } from '../store/index.js';
import { organisations } from '../store/index.js';
import { holdsAdminRole } from './accounts.js';
import type { Actor } from './actor.js';
import type { ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';

type Missing = { code: CodeOf<'not_found'>; message: string };
const NO_ORGANISATION: Missing = { code: 'organisation_not_found', message: 'No such organisation.' };

/** Refuses non-admins up front, so they are not asked to re-authenticate for nothing. */
export async function assertAdmin(db: Executor, actor: User): Promise<void> {
  if (!(await holdsAdminRole(db, actor.id))) throw forbidden('not_admin', 'Only an administrator can do this.');
}

/** Whether `orgId` is the actor's own organisation or one below it. */
export async function isWithinTree(db: Executor, actor: User, orgId: string): Promise<boolean> {
  return (await organisations.ancestorIds(db, orgId)).includes(actor.org_id);
}

/**
 * Admins manage their own organisation and those below it. Unknown organisations, and those
 * outside the admin's tree, are both 404 (with the caller's own "not found" code): an admin
 * learns nothing about siblings.
 */
export async function requireAdminOf(db: Executor, actor: User, orgId: string, missing: Missing = NO_ORGANISATION): Promise<Organisation> {
  await assertAdmin(db, actor);
  return requireInTree(db, actor, orgId, missing);
}

/**
 * The organisation, when it is the admin's own or one below it; otherwise 404 as above. Only
 * for an admin already checked (requireSudoAdmin), e.g. inside the use case's transaction.
 */
export async function requireInTree(db: Executor, admin: User, orgId: string, missing: Missing = NO_ORGANISATION): Promise<Organisation> {
  const org = await organisations.findOrganisation(db, orgId);
  if (!org || !(await isWithinTree(db, admin, orgId))) throw notFound(missing.code, missing.message);
  return org;
}

/**
 * How an admin use case on one organisation starts: the actor is a signed-in admin with sudo
 * (see step-up.ts: not_admin, then reauthentication_required), then the organisation is within
 * their tree (404 otherwise, so a stale or foreign admin learns nothing). Reads on its own
 * connection: call it before opening a transaction.
 */
export async function requireSudoAdminOf(deps: ServiceDeps, actor: Actor, orgId: string, missing: Missing = NO_ORGANISATION): Promise<{ admin: User; org: Organisation }> {
  const admin = await requireSudoAdmin(deps, actor);
  return { admin, org: await requireInTree(deps.database.db, admin, orgId, missing) };
}
