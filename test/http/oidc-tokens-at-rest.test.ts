/**
 * OpenID Connect records at rest: a database dump holds no usable code, token, or session or
 * interaction id. Records are kept under a keyed hash of their id with a sealed payload, so the
 * values an app or a browser holds still work, and what the dump holds does not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { createMember, dbOf } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import { Browser, completeFlow, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

/** The OAuth error code of a refusal, from the body or from a WWW-Authenticate challenge. */
function oauthError(e: unknown): string | undefined {
  if (e instanceof oidc.ResponseBodyError) return e.error;
  if (e instanceof oidc.WWWAuthenticateChallengeError) return e.cause[0]?.parameters.error;
  return undefined;
}
const isOAuthError = (code: string) => (e: unknown) => oauthError(e) === code;

async function dump(server: TestServer) {
  return dbOf(server).selectFrom('oidc_payloads').selectAll().execute();
}

/** Fails naming the value and the row where any of `secrets` appears in the dump, in any column. */
function assertNowhere(rows: Awaited<ReturnType<typeof dump>>, secrets: Record<string, string>) {
  for (const row of rows) {
    const text = JSON.stringify(row);
    for (const [label, value] of Object.entries(secrets)) {
      assert.ok(value.length >= 16, `${label} is a real value`);
      assert.ok(!text.includes(value), `the ${label} is stored as is, in a ${row.model} row: ${text.slice(0, 300)}`);
    }
  }
}

describe(`OpenID Connect records at rest (${currentBackend()})`, () => {
  test('codes, access and refresh tokens, session and interaction ids are nowhere in oidc_payloads; the real ones still work, the stored ones do not', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await createMember(server);
    const registered = await registerClient(server);
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);

    const authorization = await startAuthorization(rp);
    const callback = await completeFlow(browser, authorization.url.href, member);
    const code = new URL(callback).searchParams.get('code')!;
    const interactionUid = browser.visited.map((v) => /\/oidc\/interaction\/([^/?]+)/.exec(v)?.[1]).find(Boolean)!;
    assert.ok(code && interactionUid);

    // Before the code is redeemed: the code and the interaction.
    const beforeRedeem = await dump(server);
    assert.ok(beforeRedeem.some((r) => r.model === 'AuthorizationCode'));
    assertNowhere(beforeRedeem, { 'authorization code': code, 'interaction id': interactionUid });

    const tokens = await redeem(rp, authorization, callback);
    const sessionCookie = browser.cookies.get('twofold_oidc');
    assert.ok(sessionCookie, `the provider's session cookie: ${[...browser.cookies.keys()].join(', ')}`);
    const secrets = { 'authorization code': code, 'interaction id': interactionUid, 'access token': tokens.access_token, 'refresh token': tokens.refresh_token!, 'session id': sessionCookie };
    const rows = await dump(server);
    for (const model of ['AccessToken', 'RefreshToken', 'Session', 'Grant']) assert.ok(rows.some((r) => r.model === model), `a ${model} row`);
    assertNowhere(rows, secrets);

    // What a dump holds is no token: neither the stored ids nor anything in the payloads.
    const storedAccess = rows.filter((r) => r.model === 'AccessToken').map((r) => r.id);
    const storedRefresh = rows.filter((r) => r.model === 'RefreshToken').map((r) => r.id);
    for (const id of storedAccess) await assert.rejects(oidc.fetchUserInfo(rp, id, member.user.id), isOAuthError('invalid_token'));
    for (const id of storedRefresh) await assert.rejects(oidc.refreshTokenGrant(rp, id), isOAuthError('invalid_grant'));

    // The real ones work: userinfo, refresh (which rotates), and the new tokens are hashed too.
    assert.equal((await oidc.fetchUserInfo(rp, tokens.access_token, member.user.id)).sub, member.user.id);
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.equal(refreshed.claims()?.sub, member.user.id);
    assert.equal((await oidc.fetchUserInfo(rp, refreshed.access_token, member.user.id)).sub, member.user.id);
    assertNowhere(await dump(server), { ...secrets, 'new access token': refreshed.access_token, 'new refresh token': refreshed.refresh_token! });

    // A second sign-in goes through the stored session (found by its hashed id) without a password.
    const again = await startAuthorization(rp);
    const quick = await browser.go(again.url.href);
    assert.ok(quick.left?.includes('code='), JSON.stringify(browser.visited.slice(-3)));
    const second = await redeem(rp, again, quick.left!);

    // Revocation finds the record by the value the app presents.
    assert.equal((await oidc.fetchUserInfo(rp, second.access_token, member.user.id)).sub, member.user.id);
    await oidc.tokenRevocation(rp, second.access_token);
    await assert.rejects(oidc.fetchUserInfo(rp, second.access_token, member.user.id), isOAuthError('invalid_token'));

    // Spending a refresh token twice still revokes the grant (its records are found by the hashed grant id).
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), isOAuthError('invalid_grant'));
    await assert.rejects(oidc.refreshTokenGrant(rp, refreshed.refresh_token!), isOAuthError('invalid_grant'));
    await assert.rejects(oidc.fetchUserInfo(rp, refreshed.access_token, member.user.id), isOAuthError('invalid_token'));
    await assert.rejects(oidc.refreshTokenGrant(rp, second.refresh_token!), isOAuthError('invalid_grant'));
  });

  test('a payload moved to another row does not open there', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await createMember(server);
    const rp = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser([server.url]);
    const first = await startAuthorization(rp);
    const a = await redeem(rp, first, await completeFlow(browser, first.url.href, member));
    const second = await startAuthorization(rp);
    const b = await redeem(rp, second, (await browser.go(second.url.href)).left!);

    // Someone with write access copies one access token's record over the other's: neither id
    // nor payload is a token, and the sealed payload only opens in its own row.
    const db = dbOf(server);
    const rows = await db.selectFrom('oidc_payloads').select(['id', 'payload']).where('model', '=', 'AccessToken').execute();
    assert.equal(rows.length, 2);
    await db.updateTable('oidc_payloads').set({ payload: rows[0]!.payload }).where('model', '=', 'AccessToken').where('id', '=', rows[1]!.id).execute();
    const results = await Promise.allSettled([a, b].map((tokens) => oidc.fetchUserInfo(rp, tokens.access_token, member.user.id)));
    assert.deepEqual(
      results.map((r) => r.status).sort(),
      ['fulfilled', 'rejected'],
    );
  });
});
