import type { Executor, Session, User } from '../store/index.js';
import { users } from '../store/index.js';

/**
 * The signed-in person as a request carries them: the user row without its password hash. What
 * travels with every request (request.auth, actors, views) can be logged, serialised or kept
 * by mistake without giving anything away. A use case that must check a password loads the hash
 * for itself (passwordHashOf).
 */
export type Principal = Omit<User, 'password_hash' | 'set_up_again_since'>;

/** This request's session without its token hash. */
export type SessionPrincipal = Omit<Session, 'token_hash'>;

/** The stored password hash, for the few use cases that check or replace a password. */
export async function passwordHashOf(db: Executor, userId: string): Promise<string | undefined> {
  return users.findPasswordHash(db, userId);
}
