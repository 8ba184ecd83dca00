/**
 * Actors for calling use cases directly, as a route would: from a signed-in browser's session,
 * or from a session opened for a real admin just now.
 */
import assert from 'node:assert/strict';
import { COOKIE } from '../../src/http/request-context.js';
import type { SessionActor } from '../../src/services/actor.js';
import { sessionActor } from '../../src/services/actor.js';
import { factors, users } from '../../src/store/index.js';
import type { TestClient } from './client.js';
import type { TestServer } from './server.js';

/** What a route builds for this browser's next request: its live session (with the proofs it holds now) and its person. */
export async function actorOf(server: TestServer, client: TestClient): Promise<SessionActor> {
  const auth = await server.services.sessions.authenticate(client.cookies.get(COOKIE.session));
  assert.ok(auth, 'the client has a live session');
  return sessionActor(auth);
}

/**
 * A new session for a real user, as a sign-in that proved everything they hold would open right
 * now (the password, and a second factor when they have one). For tests that read state back
 * through the admin services' own views after the browser under test has gone stale; it is not
 * the actor under test.
 */
export async function freshSessionActor(server: TestServer, userId: string): Promise<SessionActor> {
  const db = server.runtime.database.db;
  const user = await users.findUser(db, userId);
  assert.ok(user, 'the user exists');
  const amr = (await factors.countActiveFactors(db, userId)) > 0 ? ['pwd', 'otp'] : ['pwd'];
  const { session } = await server.services.sessions.issue(db, userId, amr, { ip: '127.0.0.1', userAgent: 'test observer' });
  return sessionActor({ user, session });
}
