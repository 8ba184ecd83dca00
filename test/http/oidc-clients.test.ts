import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { PASSWORD, createMember, signedInClient } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { SYSTEM, deliveryWorld } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { addMember } from '../helpers/policy.js';
import { Browser, POST_LOGOUT_URI, REDIRECT_URI, completeFlow, redeem, relyingParty, startAuthorization } from '../helpers/oidc.js';

describe(`OpenID Connect clients: API and admin page (${currentBackend()})`, () => {
  test('an admin registers a client through the API; its secret (shown once) signs people in; rotation and deletion take effect at once', async (t) => {
    const world = await deliveryWorld(t);
    const { server, admin, orgId } = world;
    const created = await admin.post(`/api/v1/organisations/${orgId}/clients`, { name: 'Wiki', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], scopes: ['openid', 'email'] });
    assert.equal(created.status, 201, created.text);
    const client = created.json?.client as { id: string; public: boolean; scopes: string[]; requireTwoFactor: boolean };
    const secret = created.json?.secret as string;
    assert.match(secret, /^tfs_/);
    assert.equal(client.public, false);
    assert.deepEqual(client.scopes, ['openid', 'email']);
    assert.equal(created.headers.get('cache-control'), 'no-store');

    const listed = await admin.get(`/api/v1/organisations/${orgId}/clients`);
    assert.equal(listed.status, 200);
    assert.equal((listed.json?.clients as unknown[]).length, 1);
    assert.ok(!listed.text.includes(secret), 'the secret is never listed');

    // The secret works for a real sign-in (of a person of the client's organisation: it admits no one else).
    const member = await addMember(server, orgId);
    const person = { email: member.email, password: PASSWORD };
    const browser = new Browser([server.url]);
    const rp = await relyingParty(server.url, { clientId: client.id, secret });
    const first = await startAuthorization(rp, { scope: 'openid email' });
    const tokens = await redeem(rp, first, await completeFlow(browser, first.url.href, person));
    assert.equal(tokens.claims()?.email, member.email);

    // A new secret: the old one stops working at once.
    const rotated = await admin.post(`/api/v1/clients/${client.id}/secret`);
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret = rotated.json?.secret as string;
    assert.notEqual(newSecret, secret);
    const second = await startAuthorization(rp, { scope: 'openid email' });
    const callback = await completeFlow(browser, second.url.href, person);
    await assert.rejects(redeem(rp, second, callback));
    const fresh = await relyingParty(server.url, { clientId: client.id, secret: newSecret });
    assert.equal((await redeem(fresh, second, callback)).claims()?.sub, member.user.id);

    const patched = await admin.request('PATCH', `/api/v1/clients/${client.id}`, { requireTwoFactor: true, name: 'Team wiki' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((patched.json?.client as { requireTwoFactor: boolean }).requireTwoFactor, true);

    const deleted = await admin.delete(`/api/v1/clients/${client.id}`);
    assert.equal(deleted.status, 204);
    const third = await startAuthorization(fresh, { scope: 'openid email' });
    const { page } = await browser.go(third.url.href);
    assert.equal(page?.status, 400);
    assert.match(page!.text, /invalid_client/);
    // Its tokens are worthless too: the provider no longer knows the client.
    await assert.rejects(oidc.refreshTokenGrant(fresh, tokens.refresh_token!));

    const types = (await server.runtime.database.db.selectFrom('audit_events').select('event_type').where('event_type', 'like', 'oidc_client.%').orderBy('id').execute()).map((r) => r.event_type);
    assert.deepEqual(types, ['oidc_client.created', 'oidc_client.secret_rotated', 'oidc_client.changed', 'oidc_client.deleted']);
  });

  test('only admins of the organisation, with a fresh confirmation; bad input is a 400 that changes nothing', async (t) => {
    const world = await deliveryWorld(t);
    const { server, admin, orgId, clock } = world;
    const body = { name: 'Wiki', redirectUris: [REDIRECT_URI] };

    const member = await createMember(server);
    const memberClient = await signedInClient(server, member.email);
    const refused = await memberClient.post(`/api/v1/organisations/${orgId}/clients`, body);
    assert.equal(refused.status, 403);
    assert.equal(refused.json?.error?.code, 'not_admin');

    const other = await server.services.accounts.createOrganisation('Other', null, SYSTEM);
    const outside = await admin.post(`/api/v1/organisations/${other.id}/clients`, body);
    assert.equal(outside.status, 404);

    for (const [payload, code] of [
      [{ name: 'Wiki', redirectUris: ['http://wiki.example.test/cb'] }, 'redirect_uri_invalid'],
      [{ name: 'Wiki', redirectUris: ['https://wiki.example.test/cb#frag'] }, 'redirect_uri_invalid'],
      [{ name: 'Wiki', redirectUris: [] }, 'invalid_request'],
      [{ name: 'Wiki', redirectUris: [REDIRECT_URI], scopes: ['admin'] }, 'invalid_request'],
      [{ name: '', redirectUris: [REDIRECT_URI] }, 'invalid_request'],
      [{ name: 'Wiki', redirectUris: [REDIRECT_URI], public: 'yes' }, 'invalid_request'],
    ] as const) {
      const res = await admin.post(`/api/v1/organisations/${orgId}/clients`, payload);
      assert.equal(res.status, 400, `${JSON.stringify(payload)}: ${res.text}`);
      assert.equal(res.json?.error?.code, code, JSON.stringify(payload));
    }
    assert.equal(await server.runtime.database.db.selectFrom('oidc_clients').select('id').execute().then((r) => r.length), 0);

    // Sudo runs out: changes and reads alike need a fresh confirmation, as for every admin area.
    clock.advance(10 * 60_000);
    const stale = await admin.post(`/api/v1/organisations/${orgId}/clients`, body);
    assert.equal(stale.status, 403);
    assert.equal(stale.json?.error?.code, 'reauthentication_required');
    const staleRead = await admin.get(`/api/v1/organisations/${orgId}/clients`);
    assert.equal(staleRead.status, 403);
    assert.equal(staleRead.json?.error?.code, 'reauthentication_required');
  });

  test('the admin page registers a client and shows the secret once; a new secret and deletion from the list', async (t) => {
    const world = await deliveryWorld(t);
    const { server, admin, orgId } = world;
    const page = await admin.get('/admin/clients');
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /Register an app/);

    const fields = await hiddenFields(admin, '/admin/clients');
    const created = await postForm(admin, '/admin/clients', { ...fields, name: 'Payroll', redirectUris: `${REDIRECT_URI} http://localhost:4000/cb`, kind: 'confidential', scope_email: '1', requireTwoFactor: '1' });
    assert.equal(created.status, 201, created.text);
    const clientId = /data-testid="client-id">([^<]+)</.exec(created.text)?.[1];
    const secret = /data-testid="client-secret">([^<]+)</.exec(created.text)?.[1];
    assert.ok(clientId && secret, created.text.slice(0, 1000));
    assert.equal(await server.services.oidcClients.verifySecret(clientId, secret), true);
    const stored = (await server.services.oidcClients.find(clientId))!;
    assert.deepEqual(stored.scopes, ['openid', 'email']);
    assert.equal(stored.requireTwoFactor, true);
    assert.deepEqual(stored.redirectUris, [REDIRECT_URI, 'http://localhost:4000/cb']);
    assert.equal(stored.orgId, orgId);

    const again = await admin.get('/admin/clients');
    assert.match(again.text, /Payroll/);
    assert.ok(!again.text.includes(secret), 'the secret is shown once');

    const bad = await postForm(admin, '/admin/clients', { ...fields, name: 'Bad', redirectUris: 'ftp://x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /must use https/);
    assert.match(bad.text, /value="Bad"/, 'the form keeps what was typed');

    const rotated = await postForm(admin, `/admin/clients/${clientId}/secret`, { ...fields, org: orgId });
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret = /data-testid="client-secret">([^<]+)</.exec(rotated.text)?.[1];
    assert.ok(newSecret && newSecret !== secret);
    assert.equal(await server.services.oidcClients.verifySecret(clientId, secret), false);

    const removed = await postForm(admin, `/admin/clients/${clientId}/delete`, { ...fields, org: orgId });
    assert.equal(removed.status, 200);
    assert.match(removed.text, /Payroll was deleted/);
    assert.equal(await server.services.oidcClients.find(clientId), null);

    const member = await createMember(server);
    const memberClient = await signedInClient(server, member.email);
    assert.equal((await memberClient.get('/admin/clients')).status, 403);
  });
});
