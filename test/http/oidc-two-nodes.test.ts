import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { ACR } from '../../src/core/oidc.js';
import { enrolledMember, freshCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import { Browser, completeFlow, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

test(`two nodes on one database behind one public URL: every step of a sign-in may land on either (${currentBackend()})`, async (t) => {
  const clock = new TestClock();
  const started: TestServer[] = [];
  t.after(async () => {
    for (const server of started.reverse()) await server.close();
  });
  const a = await startTestServer({ clock });
  started.push(a);
  // The second node shares the database, the secret key and the public URL (the load balancer's).
  const b = await startTestServer({ clock, location: a.location, env: { TWOFOLD_PUBLIC_URL: a.url } });
  started.push(b);
  const nodes = [a.url, b.url];

  const member = await enrolledMember(a, clock);
  const registered = await registerClient(b);
  const rp = await relyingParty(a.url, registered);
  // The app's own calls (token, userinfo, refresh) alternate between the nodes as well.
  let turn = 0;
  rp[oidc.customFetch] = (url, options) => fetch(url.replace(a.url, nodes[turn++ % 2]!), options as RequestInit);

  // Every browser request goes to the next node: sign-in page, password, code, interaction,
  // consent and the provider's resume are served by alternating processes.
  const browser = new Browser([a.url, b.url], nodes);
  const authorization = await startAuthorization(rp, { acr_values: ACR.twoFactor });
  const callback = await completeFlow(browser, authorization.url.href, { email: member.email, password: member.password, code: () => freshCode(member.secret, clock) });
  const served = (prefix: string) => new Set(browser.visited.filter((v) => v.includes(prefix)).map((v) => new URL(v.split(' ')[1]!).origin));
  assert.deepEqual(served('/oidc/').size, 2, `OIDC steps on both nodes: ${JSON.stringify(browser.visited)}`);
  assert.deepEqual(served('/sign-in').size, 2, 'sign-in steps on both nodes');

  const tokens = await redeem(rp, authorization, callback);
  for (const node of nodes) {
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${node}/oidc/jwks`)), { issuer: a.url, audience: registered.clientId });
    assert.equal(payload.sub, member.user.id);
    assert.equal(payload.acr, ACR.twoFactor);
  }
  assert.equal((await oidc.fetchUserInfo(rp, tokens.access_token, member.user.id)).email, member.email);
  assert.equal((await oidc.fetchUserInfo(rp, tokens.access_token, member.user.id)).email, member.email);
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
  await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(rp, refreshed.refresh_token!), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');

  // A code redeemed on one node is spent on the other.
  const again = await startAuthorization(rp);
  const second = await completeFlow(browser, again.url.href, { email: member.email, password: member.password });
  await redeem(rp, again, second);
  await assert.rejects(redeem(rp, again, second), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
});
