import assert from 'node:assert/strict';
import { before, after, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { dbOf, enrolledMember, freshCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import type { RegisteredClient } from '../helpers/oidc.js';
import { Browser, REDIRECT_URI, completeFlow, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

/** The OAuth error code of a refusal, from the body or from a WWW-Authenticate challenge. */
function oauthError(e: unknown): string | undefined {
  if (e instanceof oidc.ResponseBodyError) return e.error;
  if (e instanceof oidc.WWWAuthenticateChallengeError) return e.cause[0]?.parameters.error;
  return undefined;
}
const isOAuthError = (code: string) => (e: unknown) => oauthError(e) === code;

describe(`OpenID Connect refusals (${currentBackend()})`, () => {
  const clock = new TestClock();
  let server: TestServer;
  let member: EnrolledMember;
  let registered: RegisteredClient;
  let rp: oidc.Configuration;
  let browser: Browser;
  const person = () => ({ email: member.email, password: member.password, code: () => freshCode(member.secret, clock) });

  before(async () => {
    server = await startTestServer({ clock });
    member = await enrolledMember(server, clock);
    registered = await registerClient(server);
    rp = await relyingParty(server.url, registered);
    browser = new Browser([server.url]);
  });
  after(() => server?.close());

  test('a redirect URI that was not registered is refused on Twofold, never followed', async () => {
    const authorization = await startAuthorization(rp, { redirect_uri: 'http://127.0.0.1:9/elsewhere' });
    const { page, left } = await browser.go(authorization.url.href);
    assert.equal(left, null, 'the browser is not sent to the unregistered URI');
    assert.equal(page?.status, 400);
    assert.match(page!.text, /redirect_uri/);
    assert.match(page!.text, /Sign-in could not continue/);
  });

  test('an unknown client is refused', async () => {
    const url = new URL(`${server.url}/oidc/auth`);
    url.search = new URLSearchParams({ client_id: 'tfc_nobody', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
    const { page, left } = await browser.go(url.href);
    assert.equal(left, null);
    assert.equal(page?.status, 400);
    assert.match(page!.text, /invalid_client/);
  });

  test('PKCE is required, also for confidential clients, and the verifier must match', async () => {
    const url = new URL(`${server.url}/oidc/auth`);
    url.search = new URLSearchParams({ client_id: registered.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 's' }).toString();
    const { left } = await browser.go(url.href);
    // A request with a valid redirect URI gets its error at the app.
    const error = new URL(left!);
    assert.equal(error.searchParams.get('error'), 'invalid_request');
    assert.match(error.searchParams.get('error_description') ?? '', /PKCE/);

    const authorization = await startAuthorization(rp);
    const callback = await completeFlow(browser, authorization.url.href, person());
    await assert.rejects(redeem(rp, { ...authorization, verifier: oidc.randomPKCECodeVerifier() }, callback), isOAuthError('invalid_grant'));
  });

  test('a wrong client secret is refused; so is the stored HMAC, in the header or in the body', async () => {
    const authorization = await startAuthorization(rp);
    const callback = await completeFlow(browser, authorization.url.href, person());

    const wrong = await relyingParty(server.url, registered, 'tfs_not-the-secret');
    await assert.rejects(redeem(wrong, authorization, callback), isOAuthError('invalid_client'));

    // Someone who can read the database learns only the HMAC, which is no secret to present.
    const row = await dbOf(server).selectFrom('oidc_clients').select('secret_hash').where('id', '=', registered.clientId).executeTakeFirstOrThrow();
    assert.ok(row.secret_hash && !row.secret_hash.includes(registered.secret!));
    const withDigest = await relyingParty(server.url, registered, row.secret_hash);
    await assert.rejects(redeem(withDigest, authorization, callback), isOAuthError('invalid_client'));
    const code = new URL(callback).searchParams.get('code')!;
    const posted = await fetch(`${server.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: authorization.verifier, client_id: registered.clientId, client_secret: row.secret_hash }),
    });
    assert.equal(posted.status, 401, await posted.clone().text());
    assert.equal(((await posted.json()) as { error: string }).error, 'invalid_client');

    // None of that spent the code: the real client redeems it.
    const tokens = await redeem(rp, authorization, callback);
    assert.equal(tokens.claims()?.sub, member.user.id);
  });

  test('a replayed authorization code is refused, and the tokens it gave are revoked', async () => {
    const authorization = await startAuthorization(rp);
    const callback = await completeFlow(browser, authorization.url.href, person());
    const tokens = await redeem(rp, authorization, callback);
    assert.equal((await oidc.fetchUserInfo(rp, tokens.access_token, member.user.id)).sub, member.user.id);

    await assert.rejects(redeem(rp, authorization, callback), isOAuthError('invalid_grant'));
    await assert.rejects(oidc.fetchUserInfo(rp, tokens.access_token, member.user.id), isOAuthError('invalid_token'));
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), isOAuthError('invalid_grant'));
  });

  test('two redemptions of one code at the same moment: exactly one wins', async () => {
    const authorization = await startAuthorization(rp);
    const callback = await completeFlow(browser, authorization.url.href, person());
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => redeem(rp, authorization, callback)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
  });

  test('revocation: a revoked refresh token no longer works', async () => {
    const authorization = await startAuthorization(rp);
    const tokens = await redeem(rp, authorization, await completeFlow(browser, authorization.url.href, person()));
    await oidc.tokenRevocation(rp, tokens.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), isOAuthError('invalid_grant'));
  });

  test('a code cannot leave the redirect URI it was issued for', async () => {
    const second = await registerClient(server, { redirectUris: [REDIRECT_URI, 'http://127.0.0.1:9/other'] });
    const secondRp = await relyingParty(server.url, second);
    const authorization = await startAuthorization(secondRp, { redirect_uri: 'http://127.0.0.1:9/other' });
    const callback = await completeFlow(browser, authorization.url.href, person());
    const code = new URL(callback).searchParams.get('code')!;
    const res = await fetch(`${server.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${second.clientId}:${second.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: authorization.verifier }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  });
});
