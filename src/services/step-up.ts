import { TwofoldError, forbidden } from '../core/errors.js';
import type { Executor, Session, User } from '../store/index.js';
import { factors } from '../store/index.js';
import type { Actor } from './actor.js';
import { personOf } from './actor.js';
import type { ServiceDeps } from './context.js';
import { holdsAdminRole } from './accounts.js';

export type MissingProof = 'password' | 'second_factor';

/** Whether a proof given at `at` is still inside the re-authentication window. */
function provenRecently(deps: ServiceDeps, at: number | null): boolean {
  return at !== null && deps.clock() - at <= deps.settings.reauthMs;
}

/**
 * Adding or removing a factor changes what protects the account, so a session alone is not
 * enough: a stolen cookie must not be able to enrol the thief's authenticator and then use it
 * to re-authenticate. A person who holds a factor proves one of them (a code, a sent code or a
 * backup code) within the re-authentication window; one who holds none proves the password.
 */
export async function requireProofToChangeFactors(deps: ServiceDeps, actor: Actor, db: Executor = deps.database.db): Promise<User> {
  const missing = await missingProofToChangeFactors(deps, actor, db);
  if (missing === null) return personOf(actor);
  const holdsFactor = missing === 'second_factor';
  throw new TwofoldError(
    'forbidden',
    'reauthentication_required',
    holdsFactor
      ? 'Confirm it is you with one of your current methods (a code from your app, a text or email code, or a backup code), then try again.'
      : 'Confirm it is you: enter your password, then try again.',
    { details: { missing: [missing] } },
  );
}

/** What the actor still has to prove before adding or removing a factor, or null when nothing. */
export async function missingProofToChangeFactors(deps: ServiceDeps, actor: Actor, db: Executor = deps.database.db): Promise<MissingProof | null> {
  if (actor.via === 'enrolment_flow') return null;
  if (actor.via === 'system') return 'password'; // only the person may change their factors
  const holdsFactor = (await factors.countActiveFactors(db, actor.user.id)) > 0;
  const { password_at: passwordAt, second_factor_at: secondFactorAt } = actor.session;
  if (holdsFactor) return provenRecently(deps, secondFactorAt) ? null : 'second_factor';
  // Holding none, the password is enough; so is a factor proven moments ago (just removed, say).
  return provenRecently(deps, passwordAt) || provenRecently(deps, secondFactorAt) ? null : 'password';
}

/**
 * "Sudo" for admin areas: the password proven within the re-authentication window and, for an
 * admin who holds a factor, a second factor as well. A fresh sign-in with both counts. This is
 * what `requireSudoAdmin` enforces, and what the re-authentication page asks for.
 */
export async function missingAdminProofs(deps: ServiceDeps, user: User, session: Session): Promise<MissingProof[]> {
  const missing: MissingProof[] = [];
  if (!provenRecently(deps, session.password_at)) missing.push('password');
  if (!provenRecently(deps, session.second_factor_at) && (await factors.countActiveFactors(deps.database.db, user.id)) > 0) missing.push('second_factor');
  return missing;
}

export function adminReauthRequired(missing: readonly MissingProof[]): TwofoldError {
  const what = missing.length === 2 ? 'your password and a current code' : missing[0] === 'password' ? 'your password' : 'a current code';
  return new TwofoldError('forbidden', 'reauthentication_required', `Admin areas need a fresh confirmation: enter ${what}, then try again.`, { details: { missing: [...missing] } });
}

/**
 * The one admin check. Every admin use case starts here, so no route can forget it: the actor
 * must be a signed-in admin with sudo (`missingAdminProofs` empty). Non-admins are refused first
 * (not_admin), so they are not asked to re-authenticate for nothing; then reauthentication_required
 * names what is missing. Returns the admin; what they may reach is then `requireInTree`
 * (tenancy.ts). Reads on its own connection: call it before opening a transaction.
 *
 * `{ orSystem: true }` is for the few use cases the operator may also run at the command line
 * (an organisation's API keys and apps): the system actor passes, as whoever holds the server's
 * database and key can do this anyway, is recorded as nobody, and gets null instead of an admin.
 */
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor): Promise<User>;
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor, options: { orSystem: true }): Promise<User | null>;
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor, options?: { orSystem: true }): Promise<User | null> {
  if (actor.via === 'system' && options?.orSystem === true) return null;
  if (actor.via !== 'session' || !(await holdsAdminRole(deps.database.db, actor.user.id))) throw forbidden('not_admin', 'Only an administrator can do this.');
  const missing = await missingAdminProofs(deps, actor.user, actor.session);
  if (missing.length > 0) throw adminReauthRequired(missing);
  return actor.user;
}
