import type { Session, User } from '../store/index.js';

/**
 * Who asks a use case to act. A use case that changes what protects an account takes an actor,
 * not a bare user, so it can check for itself what the actor has proven and how recently.
 */
export type Actor =
  /** A signed-in person: the session says which proofs it holds and when they were given. */
  | { via: 'session'; user: User; session: Session }
  /**
   * A sign-in that has just proven the password and must enrol a first factor before any
   * session exists (policy requires 2FA and the person holds none). The sign-in service opens
   * this actor only from a live flow in `enrolment_required`.
   */
  | { via: 'enrolment_flow'; user: User };

export function sessionActor(auth: { user: User; session: Session }): Actor {
  return { via: 'session', user: auth.user, session: auth.session };
}
