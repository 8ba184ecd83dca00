import { TwofoldError, forbidden } from '../core/errors.js';
import type { MissingProof, SessionProofs, StepUpPurpose, StepUpWindow } from '../core/flows/step-up.js';
import { missingProofs, provenWithin } from '../core/flows/step-up.js';
import type { Executor } from '../store/index.js';
import { factors } from '../store/index.js';
import type { Actor } from './actor.js';
import { personOf } from './actor.js';
import type { ServiceDeps } from './context.js';
import { holdsAdminRole } from './accounts.js';
import type { Principal, SessionPrincipal } from './principal.js';

export type { MissingProof };

/** The session's proofs, as the step-up rules in core/flows/step-up.ts read them. */
export function proofsOf(session: SessionPrincipal, holdsFactor: boolean): SessionProofs {
  return { passwordAt: session.password_at, secondFactorAt: session.second_factor_at, holdsFactor };
}

/**
 * How long a proof counts, per purpose: a person's own factor changes use TWOFOLD_REAUTH_MINUTES,
 * admin areas TWOFOLD_ADMIN_REAUTH_MINUTES (longer, so admin work is not interrupted every few minutes).
 */
export function reauthWindow(deps: ServiceDeps, purpose: StepUpPurpose = 'change_factors'): StepUpWindow {
  return { nowMs: deps.clock(), windowMs: purpose === 'admin' ? deps.settings.adminReauthMs : deps.settings.reauthMs };
}

/**
 * Adding or removing a factor changes what protects the account, so a session alone is not
 * enough: a stolen cookie must not be able to enrol the thief's authenticator and then use it
 * to re-authenticate. A person who holds a factor proves one of them (a code, a sent code or a
 * backup code) within the re-authentication window; one who holds none proves the password.
 */
export async function requireProofToChangeFactors(deps: ServiceDeps, actor: Actor, db: Executor = deps.database.db): Promise<Principal> {
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

/**
 * A person's own sensitive action that changes no factor (unblocking a device or a place,
 * blocking a whole place): the session must have proven something, a password or a code,
 * within the re-authentication window. Returns the person.
 */
export function requireRecentReauth(deps: ServiceDeps, actor: Actor): Principal {
  const person = personOf(actor);
  if (actor.via !== 'session') throw reauthenticationRequired();
  requireRecentSession(deps, actor.session);
  return person;
}

/** Throws unless the session proved a password or a code within the re-authentication window. */
export function requireRecentSession(deps: ServiceDeps, session: SessionPrincipal): void {
  if (deps.clock() - session.authenticated_at > deps.settings.reauthMs) throw reauthenticationRequired();
}

function reauthenticationRequired(): TwofoldError {
  return forbidden('reauthentication_required', 'Confirm it is you: enter your password or a current code, then try again.');
}

/** What the actor still has to prove before adding or removing a factor, or null when nothing. */
export async function missingProofToChangeFactors(deps: ServiceDeps, actor: Actor, db: Executor = deps.database.db): Promise<MissingProof | null> {
  if (actor.via === 'enrolment_flow') return null;
  if (actor.via === 'system') return 'password'; // only the person may change their factors
  const holdsFactor = (await factors.countHeldFactors(db, actor.user.id)) > 0;
  return missingProofs('change_factors', proofsOf(actor.session, holdsFactor), reauthWindow(deps))[0] ?? null;
}

/**
 * "Sudo" for admin areas: the password proven within the admin re-authentication window and, for an
 * admin who holds a factor, a second factor as well. A fresh sign-in with both counts. This is
 * what `requireSudoAdmin` enforces, and what the re-authentication page asks for.
 */
export async function missingAdminProofs(deps: ServiceDeps, user: Principal, session: SessionPrincipal): Promise<MissingProof[]> {
  const adminWindow = reauthWindow(deps, 'admin');
  // Holding a factor only matters while no second factor is fresh: every admin request in sudo
  // skips the count (with a fresh second factor, "holds one" gives the same answer as the truth).
  const holdsFactor = provenWithin(session.second_factor_at, adminWindow) || (await factors.countHeldFactors(deps.database.db, user.id)) > 0;
  return missingProofs('admin', proofsOf(session, holdsFactor), adminWindow);
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
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor): Promise<Principal>;
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor, options: { orSystem: true }): Promise<Principal | null>;
export async function requireSudoAdmin(deps: ServiceDeps, actor: Actor, options?: { orSystem: true }): Promise<Principal | null> {
  if (actor.via === 'system' && options?.orSystem === true) return null;
  if (actor.via !== 'session' || !(await holdsAdminRole(deps.database.db, actor.user.id))) throw forbidden('not_admin', 'Only an administrator can do this.');
  const missing = await missingAdminProofs(deps, actor.user, actor.session);
  if (missing.length > 0) throw adminReauthRequired(missing);
  return actor.user;
}
