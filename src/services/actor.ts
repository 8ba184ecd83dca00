import { forbidden } from '../core/errors.js';
import type { Principal, SessionPrincipal } from './principal.js';

/**
 * Who asks a use case to act. A use case that changes what protects an account takes an actor,
 * not a bare user, so it can check for itself what the actor has proven and how recently.
 */
export type Actor =
  /** A signed-in person: the session says which proofs it holds and when they were given. */
  | { via: 'session'; user: Principal; session: SessionPrincipal }
  /**
   * A sign-in that has just proven the password and must enrol a first factor before any
   * session exists (policy requires 2FA and the person holds none). The sign-in service opens
   * this actor only from a live flow in `enrolment_required`.
   */
  | { via: 'enrolment_flow'; user: Principal }
  /** The operator at the command line: whoever holds the server's database and key. */
  | { via: 'system' };

export type SessionActor = Extract<Actor, { via: 'session' }>;

export function sessionActor(auth: { user: Principal; session: SessionPrincipal }): SessionActor {
  return { via: 'session', user: auth.user, session: auth.session };
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ via: 'system' });

/** The person an actor acts as; the command line acts for nobody's own account. */
export function personOf(actor: Actor): Principal {
  if (actor.via === 'system') throw forbidden('person_required', 'Only the person themselves can do this.');
  return actor.user;
}
