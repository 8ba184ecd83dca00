/**
 * Which people an app (OIDC client) may sign in: by default those of the organisation that
 * registered it and of every organisation below it; an app opened to everyone admits anyone.
 * The ID token and userinfo say which organisation a person belongs to (org_id).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { SYSTEM_ACTOR } from '../../src/services/actor.js';
import { PASSWORD, dbOf, signedInClient } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { SYSTEM, deliveryWorld } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import type { RegisteredClient } from '../helpers/oidc.js';
import { Browser, POST_LOGOUT_URI, REDIRECT_URI, completeFlow, redeem, relyingParty, startAuthorization } from '../helpers/oidc.js';
import { addMember } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

/** The OAuth error code of a refusal, from the body or from a WWW-Authenticate challenge. */
function oauthError(e: unknown): string | undefined {
  if (e instanceof oidc.ResponseBodyError) return e.error;
  if (e instanceof oidc.WWWAuthenticateChallengeError) return e.cause[0]?.parameters.error;
  return undefined;
}
const isOAuthError = (code: string) => (e: unknown) => oauthError(e) === code;

/**
 * Two organisation trees: Acme (the admin's, where apps are registered) with a sub-organisation
 * Acme Sub, and Globex, unrelated. One person in each.
 */
async function twoTrees(t: Parameters<typeof deliveryWorld>[0]) {
  const world = await deliveryWorld(t);
  const { server, orgId } = world;
  const sub = await server.services.accounts.createOrganisation('Acme Sub', orgId, SYSTEM);
  const globex = await server.services.accounts.createOrganisation('Globex', null, SYSTEM);
  const person = async (org: string) => {
    const { user, email } = await addMember(server, org);
    return { user, email, password: PASSWORD };
  };
  return { ...world, subId: sub.id, globexId: globex.id, acme: await person(orgId), inSub: await person(sub.id), outsider: await person(globex.id) };
}

async function register(server: TestServer, orgId: string, audience?: 'organisation' | 'everyone'): Promise<RegisteredClient> {
  const { client, secret } = await server.services.oidcClients.create(
    SYSTEM_ACTOR,
    orgId,
    { name: 'Acme Portal', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], ...(audience ? { audience } : {}) },
    null,
  );
  return { clientId: client.id, secret };
}

/** Audit events of one type about one person, with their details. */
async function auditOf(server: TestServer, userId: string, type: string) {
  const rows = await dbOf(server).selectFrom('audit_events').select(['event_type', 'org_id', 'details']).where('subject_user_id', '=', userId).where('event_type', '=', type).orderBy('id').execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

describe(`OpenID Connect: who an app may sign in (${currentBackend()})`, () => {
  test('an app signs in people of its organisation and below it, with org_id; a person of another tree is refused with access_denied and an audit event', async (t) => {
    const { server, orgId, subId, acme, inSub, outsider } = await twoTrees(t);
    const registered = await register(server, orgId);
    assert.equal((await server.services.oidcClients.find(registered.clientId))?.audience, 'organisation', 'the default');
    const rp = await relyingParty(server.url, registered);

    // The discovery document names the claim.
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { claims_supported: string[] };
    assert.ok(discovery.claims_supported.includes('org_id'), JSON.stringify(discovery.claims_supported));

    // A person of a sub-organisation is admitted; the ID token and userinfo carry their organisation.
    for (const [person, expectedOrg] of [
      [inSub, subId],
      [acme, orgId],
    ] as const) {
      const authorization = await startAuthorization(rp);
      const tokens = await redeem(rp, authorization, await completeFlow(new Browser([server.url]), authorization.url.href, person));
      assert.equal(tokens.claims()?.sub, person.user.id);
      assert.equal(tokens.claims()?.org_id, expectedOrg);
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, person.user.id);
      assert.equal(info.org_id, expectedOrg);
      // Refreshed ID tokens keep it.
      assert.equal((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).claims()?.org_id, expectedOrg);
    }

    // A person of the other tree signs in to Twofold, then is sent back to the app with a refusal.
    const browser = new Browser([server.url]);
    const authorization = await startAuthorization(rp);
    let { page, left } = await browser.go(authorization.url.href);
    assert.equal(new URL(page!.url).pathname, '/sign-in');
    ({ page, left } = await browser.submit(page!, '/sign-in', { email: outsider.email, password: outsider.password }));
    assert.ok(left, `the outsider is sent back to the app, not shown a page: ${page?.status} ${page?.url}\n${page?.text.slice(0, 800)}`);
    const answer = new URL(left);
    assert.equal(`${answer.origin}${answer.pathname}`, REDIRECT_URI);
    assert.equal(answer.searchParams.get('error'), 'access_denied');
    assert.match(answer.searchParams.get('error_description') ?? '', /only signs in people of the organisation that registered it/);
    assert.equal(answer.searchParams.get('state'), authorization.state);
    assert.equal(answer.searchParams.get('code'), null);
    assert.ok(!browser.visited.some((v) => v.includes('/consent')), 'no consent is asked of someone who will be refused');

    const denied = await auditOf(server, outsider.user.id, 'oidc.denied');
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.details.clientId, registered.clientId);
    assert.equal(denied[0]!.details.refusal, 'outside_audience');
    assert.deepEqual(await auditOf(server, outsider.user.id, 'oidc.authorized'), []);

    // Asking again with the Twofold session still open: refused again, never a crash or a code.
    const again = await startAuthorization(rp);
    const second = await browser.go(again.url.href);
    assert.ok(second.left, `${second.page?.status} ${second.page?.text.slice(0, 500)}`);
    assert.equal(new URL(second.left).searchParams.get('error'), 'access_denied');
    // prompt=none cannot slip past either.
    const silent = await startAuthorization(rp, { prompt: 'none' });
    const quiet = await browser.go(silent.url.href);
    assert.ok(quiet.left && !new URL(quiet.left).searchParams.has('code'), quiet.left ?? '');
    assert.ok(new URL(quiet.left).searchParams.get('error'), quiet.left);
  });

  test('an app open to everyone admits both trees and tells them apart by org_id; narrowing it later cuts the outsider off, tokens included', async (t) => {
    const { server, admin, orgId, subId, globexId, inSub, outsider } = await twoTrees(t);
    const registered = await register(server, orgId, 'everyone');
    const rp = await relyingParty(server.url, registered);

    const signIn = async (person: typeof inSub, browser = new Browser([server.url])) => {
      const authorization = await startAuthorization(rp);
      return redeem(rp, authorization, await completeFlow(browser, authorization.url.href, person));
    };
    const outsiderBrowser = new Browser([server.url]);
    const theirs = await signIn(outsider, outsiderBrowser);
    const ours = await signIn(inSub);
    assert.equal(theirs.claims()?.org_id, globexId);
    assert.equal(ours.claims()?.org_id, subId);
    assert.equal((await oidc.fetchUserInfo(rp, theirs.access_token, outsider.user.id)).org_id, globexId);
    assert.equal((await auditOf(server, outsider.user.id, 'oidc.authorized')).length, 1);

    // The admin closes the app to its own tree: the outsider's tokens stop working at once.
    const patched = await admin.request('PATCH', `/api/v1/clients/${registered.clientId}`, { audience: 'organisation' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((patched.json?.client as { audience: string }).audience, 'organisation');
    await assert.rejects(oidc.fetchUserInfo(rp, theirs.access_token, outsider.user.id), isOAuthError('invalid_token'));
    await assert.rejects(oidc.refreshTokenGrant(rp, theirs.refresh_token!), isOAuthError('invalid_grant'));
    // Their earlier consent does not carry them through either.
    const again = await startAuthorization(rp);
    const { left } = await outsiderBrowser.go(again.url.href);
    assert.equal(new URL(left!).searchParams.get('error'), 'access_denied', left ?? '');
    // The sub-organisation's person is unaffected.
    assert.equal((await oidc.refreshTokenGrant(rp, ours.refresh_token!)).claims()?.org_id, subId);
  });

  test('audience through the API, the admin page and its audit; anything but organisation or everyone is a 400', async (t) => {
    const { server, admin, orgId } = await twoTrees(t);
    const body = { name: 'Wiki', redirectUris: [REDIRECT_URI] };

    const plain = await admin.post(`/api/v1/organisations/${orgId}/clients`, body);
    assert.equal(plain.status, 201, plain.text);
    assert.equal((plain.json?.client as { audience: string }).audience, 'organisation');
    const shared = await admin.post(`/api/v1/organisations/${orgId}/clients`, { ...body, audience: 'everyone' });
    assert.equal(shared.status, 201, shared.text);
    const sharedId = (shared.json?.client as { id: string; audience: string }).id;
    assert.equal((shared.json?.client as { audience: string }).audience, 'everyone');
    assert.equal(((await admin.get(`/api/v1/clients/${sharedId}`)).json?.client as { audience: string }).audience, 'everyone');
    for (const audience of ['world', '', 1, null]) {
      const res = await admin.post(`/api/v1/organisations/${orgId}/clients`, { ...body, audience });
      assert.equal(res.status, 400, `${JSON.stringify(audience)}: ${res.text}`);
      assert.equal(res.json?.error?.code, 'invalid_request');
    }
    const badPatch = await admin.request('PATCH', `/api/v1/clients/${sharedId}`, { audience: 'all' });
    assert.equal(badPatch.status, 400, badPatch.text);

    const audit = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'oidc_client.created').orderBy('id').execute();
    assert.deepEqual(
      audit.map((r) => (JSON.parse(r.details) as { audience: string }).audience),
      ['organisation', 'everyone'],
    );

    const openapi = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as Record<string, unknown>;
    assert.match(JSON.stringify(openapi), /"audience":\{"type":"string","enum":\["organisation","everyone"\]/);

    // The admin page: a radio choice, shown in the list.
    const form = await admin.get('/admin/clients');
    assert.match(form.text, /name="audience" value="organisation" checked/);
    const fields = await hiddenFields(admin, '/admin/clients');
    const created = await postForm(admin, '/admin/clients', { ...fields, name: 'Shared desk', redirectUris: REDIRECT_URI, kind: 'confidential', audience: 'everyone' });
    assert.equal(created.status, 201, created.text);
    const clientId = /data-testid="client-id">([^<]+)</.exec(created.text)?.[1];
    assert.ok(clientId);
    assert.equal((await server.services.oidcClients.find(clientId))?.audience, 'everyone');
    const row = new RegExp(`data-client-id="${clientId}"[\\s\\S]*?</tr>`).exec(created.text)?.[0] ?? '';
    assert.match(row, /Open to everyone/);
    const own = await postForm(admin, '/admin/clients', { ...fields, name: 'Own desk', redirectUris: REDIRECT_URI, kind: 'confidential' });
    const ownId = /data-testid="client-id">([^<]+)</.exec(own.text)?.[1];
    assert.equal((await server.services.oidcClients.find(ownId!))?.audience, 'organisation');
  });

  test("a sub-organisation's admin cannot open an app to everyone, on the API or the page; they may narrow one", async (t) => {
    const { server, subId, admin, orgId } = await twoTrees(t);
    const email = `sub-admin-${Date.now()}@example.com`;
    await server.services.accounts.createUser({ orgId: subId, email, password: PASSWORD, roles: ['admin'] }, SYSTEM);
    const subAdmin = await signedInClient(server, email);
    const body = { name: 'Look-alike portal', redirectUris: [REDIRECT_URI] };

    const refused = await subAdmin.post(`/api/v1/organisations/${subId}/clients`, { ...body, audience: 'everyone' });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json?.error?.code, 'audience_everyone_not_allowed');
    const own = await subAdmin.post(`/api/v1/organisations/${subId}/clients`, body);
    assert.equal(own.status, 201, own.text);
    const ownId = (own.json?.client as { id: string }).id;
    const widened = await subAdmin.request('PATCH', `/api/v1/clients/${ownId}`, { audience: 'everyone' });
    assert.equal(widened.status, 403, widened.text);
    assert.equal((await server.services.oidcClients.find(ownId))?.audience, 'organisation');
    const created = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', 'in', ['oidc_client.created', 'oidc_client.changed']).execute();
    assert.equal(created.length, 1, 'only the narrow app was recorded');

    // The page does not offer the choice, and a forged form is refused with the page's own error.
    const page = await subAdmin.get(`/admin/clients?org=${subId}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /value="everyone"/);
    const fields = await hiddenFields(subAdmin, `/admin/clients?org=${subId}`);
    const forged = await postForm(subAdmin, '/admin/clients', { ...fields, org: subId, name: 'Forged', redirectUris: REDIRECT_URI, kind: 'confidential', audience: 'everyone' });
    assert.equal(forged.status, 403, forged.text);
    assert.match(forged.text, /top-level organisation/);

    // The top-level admin may open an app the sub-organisation registered; anyone may narrow it again.
    const opened = await admin.request('PATCH', `/api/v1/clients/${ownId}`, { audience: 'everyone' });
    assert.equal(opened.status, 200, opened.text);
    assert.match((await admin.get(`/admin/clients?org=${orgId}`)).text, /value="everyone"/);
    const narrowed = await subAdmin.request('PATCH', `/api/v1/clients/${ownId}`, { audience: 'organisation' });
    assert.equal(narrowed.status, 200, narrowed.text);
  });
});
