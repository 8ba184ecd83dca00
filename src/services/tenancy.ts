import type { CodeOf } from '../core/errors.js';
import { notFound } from '../core/errors.js';
import type { Executor, Organisation } from '../store/index.js';
import { organisations } from '../store/index.js';
import type { Principal } from './principal.js';

type Missing = { code: CodeOf<'not_found'>; message: string };
const NO_ORGANISATION: Missing = { code: 'organisation_not_found', message: 'No such organisation.' };

/** Whether `orgId` is the actor's own organisation or one below it. */
export async function isWithinTree(db: Executor, actor: Principal, orgId: string): Promise<boolean> {
  return (await organisations.ancestorIds(db, orgId)).includes(actor.org_id);
}

/**
 * The tree check. Admins manage their own organisation and those below it: this returns the
 * organisation when it is the admin's own or one below it. Unknown organisations, and those
 * outside the admin's tree, are both 404 (with the caller's own "not found" code): an admin
 * learns nothing about siblings. Only for an admin already checked (`requireSudoAdmin` in
 * step-up.ts, before the transaction), so pass the use case's transaction here.
 */
export async function requireInTree(db: Executor, admin: Principal, orgId: string, missing: Missing = NO_ORGANISATION): Promise<Organisation> {
  const org = await organisations.findOrganisation(db, orgId);
  if (!org || !(await isWithinTree(db, admin, orgId))) throw notFound(missing.code, missing.message);
  return org;
}
