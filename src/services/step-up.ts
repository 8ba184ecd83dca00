import { TwofoldError } from '../core/errors.js';
import type { Executor } from '../store/index.js';
import { factors } from '../store/index.js';
import type { Actor } from './actor.js';
import type { ServiceDeps } from './context.js';

export type MissingProof = 'password' | 'second_factor';

/**
 * Adding or removing a factor changes what protects the account, so a session alone is not
 * enough: a stolen cookie must not be able to enrol the thief's authenticator and then use it
 * to re-authenticate. A person who holds a factor proves one of them (a code, a sent code or a
 * backup code) within the re-authentication window; one who holds none proves the password.
 */
export async function requireProofToChangeFactors(deps: ServiceDeps, actor: Actor, db: Executor = deps.database.db): Promise<void> {
  const missing = await missingProofToChangeFactors(deps, actor, db);
  if (missing === null) return;
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
  const holdsFactor = (await factors.countActiveFactors(db, actor.user.id)) > 0;
  const provenAt = holdsFactor ? actor.session.second_factor_at : actor.session.password_at;
  if (provenAt !== null && deps.clock() - provenAt <= deps.settings.reauthMs) return null;
  return holdsFactor ? 'second_factor' : 'password';
}
