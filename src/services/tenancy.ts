import type { CodeOf } from '../core/errors.js';
import { forbidden, notFound } from '../core/errors.js';
import type { Executor, Organisation, User } from '../store/index.js';
import { organisations } from '../store/index.js';
import { holdsAdminRole } from './accounts.js';

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
export async function requireAdminOf(db: Executor, actor: User, orgId: string, missing: { code: CodeOf<'not_found'>; message: string } = { code: 'organisation_not_found', message: 'No such organisation.' }): Promise<Organisation> {
  await assertAdmin(db, actor);
  const org = await organisations.findOrganisation(db, orgId);
  if (!org || !(await isWithinTree(db, actor, orgId))) throw notFound(missing.code, missing.message);
  return org;
}
