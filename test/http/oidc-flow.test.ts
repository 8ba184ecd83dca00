import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { ACR } from '../../src/core/oidc.js';
import { auditTypes, enrolledMember, freshCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import { Browser, POST_LOGOUT_URI, REDIRECT_URI, completeFlow, pathOf, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import { startTestServer } from '../helpers/server.js';

describe(`OpenID Connect code flow with PKCE (${currentBackend()})`, () => {
  test('a member with an authenticator signs in to an app: password, code, consent once; the ID token verifies and says pwd + otp', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const registered = await registerClient(server);
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);

    // The app sends the browser to Twofold, which asks it to sign in first.
    const authorization = await startAuthorization(rp);
    let { page } = await browser.go(authorization.url.href);
    const uid = /\/oidc\/interaction\/([^/?]+)/.exec(decodeURIComponent(page!.url))?.[1];
    assert.ok(uid, page!.url);
    assert.equal(pathOf(page!.url), `/sign-in?return_to=${encodeURIComponent(`/oidc/interaction/${uid}?back=1`)}`);

    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    assert.equal(pathOf(page!.url), '/sign-in/second-factor');
    ({ page } = await browser.submit(page!, '/sign-in/second-factor', { method: 'totp', code: freshCode(member.secret, clock) }));

    // Back at the interaction: the first sign-in to this app asks for consent.
    assert.equal(pathOf(page!.url), `/oidc/interaction/${uid}?back=1`);
    assert.match(page!.text, /Sign in to Example App/);
    const scopes = [...page!.text.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scopes, ['openid', 'email', 'profile']);
    const consented = await browser.submit(page!, `/oidc/interaction/${uid}/consent`, { decision: 'allow' });
    assert.ok(consented.left?.startsWith(`${REDIRECT_URI}?`), JSON.stringify(browser.visited.slice(-4)));
    // The consent POST ends on a page of ours (Chrome checks form-action on every redirect after a form).
    assert.ok(browser.visited.some((v) => v === `GET ${server.url}/oidc/auth/${uid}`));

    const tokens = await redeem(rp, authorization, consented.left!);
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'the code flow issues a refresh token');

    // The ID token verifies against the published keys, outside openid-client too.
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oidc/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.url, audience: registered.clientId });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, member.user.id);
    assert.equal(payload.email, member.email);
    assert.equal(payload.email_verified, true);
    assert.equal(payload.acr, ACR.twoFactor);
    assert.ok((payload.amr as string[]).includes('pwd') && (payload.amr as string[]).includes('otp'), JSON.stringify(payload.amr));
    assert.equal(typeof payload.auth_time, 'number');
    assert.equal(payload.nonce, authorization.nonce);
    // One key set: the OIDC keys are the server's signing keys, also published for deploy approvals.
    const deployKeys = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    assert.ok(deployKeys.keys.some((k) => k.kid === decodeProtectedHeader(tokens.id_token!).kid));

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, member.user.id);
    assert.equal(info.email, member.email);
    assert.equal(info.name, member.user.display_name);

    const audit = await auditTypes(server, member.user.id);
    assert.ok(audit.includes('oidc.consent_granted'));
    assert.ok(audit.includes('oidc.authorized'));

    // The second time: no password, no code, no consent; straight back to the app.
    const again = await startAuthorization(rp);
    const quick = await browser.go(again.url.href);
    assert.ok(quick.left?.startsWith(`${REDIRECT_URI}?`), JSON.stringify(browser.visited.slice(-4)));
    const second = await redeem(rp, again, quick.left!);
    assert.equal(second.claims()?.sub, member.user.id);
    assert.equal(second.claims()?.acr, ACR.twoFactor);

    // prompt=none works while the Twofold session lasts.
    const silent = await startAuthorization(rp, { prompt: 'none' });
    const silently = await browser.go(silent.url.href);
    assert.ok(silently.left?.includes('code='), silently.left ?? '');
  });

  test('refresh tokens rotate; a spent refresh token is refused and revokes the rest; RP-initiated logout ends the Twofold session', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const registered = await registerClient(server);
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);

    const signIn = async () => {
      const authorization = await startAuthorization(rp);
      let { page, left } = await browser.go(authorization.url.href);
      if (page && pathOf(page.url).startsWith('/sign-in')) {
        ({ page } = await browser.submit(page, '/sign-in', { email: member.email, password: member.password }));
        ({ page, left } = await browser.submit(page!, '/sign-in/second-factor', { method: 'totp', code: freshCode(member.secret, clock) }));
      }
      if (page && /consent/.test(page.text)) ({ left } = await browser.submit(page, `${new URL(page.url).pathname}/consent`, { decision: 'allow' }));
      assert.ok(left, page?.text.slice(0, 500));
      return redeem(rp, authorization, left);
    };

    const first = await signIn();
    const refreshed = await oidc.refreshTokenGrant(rp, first.refresh_token!);
    assert.ok(refreshed.access_token && refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, first.refresh_token, 'the refresh token rotates');
    assert.equal(refreshed.claims()?.sub, member.user.id);
    assert.equal(refreshed.claims()?.acr, ACR.twoFactor, 'a refreshed ID token keeps how the person signed in');

    // Replaying the spent refresh token fails, and takes the grant with it.
    await assert.rejects(oidc.refreshTokenGrant(rp, first.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(rp, refreshed.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');

    // A new sign-in (the session still stands), then the app signs the person out.
    const second = await signIn();
    const endSession = oidc.buildEndSessionUrl(rp, { id_token_hint: second.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const { page } = await browser.go(endSession.href);
    assert.match(page!.text, /Example App asks to sign you out/);
    const out = await browser.submit(page!, `${server.url}/oidc/session/end/confirm`, { logout: 'yes' });
    assert.equal(out.left, `${POST_LOGOUT_URI}?state=bye`);

    // The Twofold session is over, and so is everything the app held.
    assert.equal((await browser.request('GET', `${server.url}/api/v1/session`)).status, 401);
    assert.ok(!browser.cookies.has('twofold_session'));
    await assert.rejects(oidc.refreshTokenGrant(rp, second.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
    await assert.rejects(oidc.fetchUserInfo(rp, second.access_token, member.user.id));
    assert.ok((await auditTypes(server, member.user.id)).includes('sign_out'));

    // The next authorization asks for a sign-in again.
    const next = await startAuthorization(rp);
    const { page: signInPage } = await browser.go(next.url.href);
    assert.match(pathOf(signInPage!.url), /^\/sign-in\?return_to=/);
  });

  test('"Only sign out of the app" keeps the Twofold session', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const registered = await registerClient(server);
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);
    const authorization = await startAuthorization(rp);
    let { page } = await browser.go(authorization.url.href);
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    ({ page } = await browser.submit(page!, '/sign-in/second-factor', { method: 'totp', code: freshCode(member.secret, clock) }));
    const { left } = await browser.submit(page!, `${new URL(page!.url).pathname}/consent`, { decision: 'allow' });
    const tokens = await redeem(rp, authorization, left!);

    const { page: logout } = await browser.go(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI }).href);
    const out = await browser.submit(logout!, `${server.url}/oidc/session/end/confirm`);
    assert.equal(out.left, POST_LOGOUT_URI);
    assert.equal((await browser.request('GET', `${server.url}/api/v1/session`)).status, 200);
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
  });
  test('a rotated signing key signs within five minutes; tokens signed by the old key still verify', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const registered = await registerClient(server);
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);
    const person = { email: member.email, password: member.password, code: () => freshCode(member.secret, clock) };

    const before = await startAuthorization(rp);
    const old = await redeem(rp, before, await completeFlow(browser, before.url.href, person));
    const oldKid = decodeProtectedHeader(old.id_token!).kid;

    const rotated = await server.services.signingKeys.rotate();
    assert.notEqual(rotated.kid, oldKid);
    clock.advance(5 * 60_000);
    const after = await startAuthorization(rp);
    const fresh = await redeem(rp, after, await completeFlow(browser, after.url.href, person));
    assert.equal(decodeProtectedHeader(fresh.id_token!).kid, rotated.kid);

    const jwks = createRemoteJWKSet(new URL(`${server.url}/oidc/jwks`));
    for (const token of [old.id_token!, fresh.id_token!]) await jwtVerify(token, jwks, { issuer: server.url, audience: registered.clientId, currentDate: new Date(Date.now()) });
    // The key is sealed in the database, never stored in the clear.
    const row = await server.runtime.database.db.selectFrom('signing_keys').selectAll().where('kid', '=', rotated.kid).executeTakeFirstOrThrow();
    assert.match(row.private_jwk_encrypted, /^v2\.[A-Za-z0-9_-]{8}\./);
    assert.doesNotMatch(row.private_jwk_encrypted, /"d"/);
  });
});
