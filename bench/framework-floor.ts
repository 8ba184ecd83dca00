/**
 * A reference, not Twofold: the least a Fastify server can do for a session check. One route
 * that reads a cookie, hashes it (SHA-256) and reads one row by that hash from SQLite (a
 * prepared better-sqlite3 statement on an in-memory table), then answers a small JSON body
 * through a response schema. No logging, no hooks, no security headers. Its ratio to the bare
 * node:http floor is the ceiling any Fastify app with a database lookup per request reaches on
 * this machine in this run: read the session check against it as well as against bare.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import cookie from '@fastify/cookie';
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';

export const FLOOR_COOKIE = 'floor_session';
export const FLOOR_TOKEN = 'reference-session-token';

interface SessionRow {
  id: string;
  user_id: string;
  email: string;
  created_at: number;
}

export async function listenFrameworkFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const db = new BetterSqlite3(':memory:');
  db.exec(`create table users (id text primary key, email text not null);
    create table sessions (id text primary key, token_hash text not null unique, user_id text not null references users (id), created_at integer not null);`);
  db.prepare(`insert into users values ('u1', 'reference@example.com')`).run();
  const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
  db.prepare(`insert into sessions values ('s1', ?, 'u1', ?)`).run(hashOf(FLOOR_TOKEN), Date.now());
  const lookup = db.prepare<[string], SessionRow>('select s.id, s.user_id, u.email, s.created_at from sessions s join users u on u.id = s.user_id where s.token_hash = ?');

  const app = Fastify({ logger: false });
  await app.register(cookie);
  const reply = { type: 'object', properties: { user: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' } } }, session: { type: 'object', properties: { id: { type: 'string' }, createdAt: { type: 'string' } } } } };
  app.get('/session', { schema: { response: { 200: reply } } }, (request, res) => {
    const token = request.cookies[FLOOR_COOKIE];
    const row = token ? lookup.get(hashOf(token)) : undefined;
    if (!row) throw new Error('reference: no session');
    return res.send({ user: { id: row.user_id, email: row.email }, session: { id: row.id, createdAt: new Date(row.created_at).toISOString() } });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      db.close();
    },
  };
}
