/**
 * One header for every page: "Admin" for admins on every page they see (and for nobody else),
 * the current section marked; provider forms carry their setup instructions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIGNATURE_HEADER } from '../../src/delivery/webhook.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld } from '../helpers/deploys.js';

const backend = currentBackend();
const ADMIN_LINK = /<a href="\/admin\/users"[^>]*>Admin<\/a>/;

test(`the header shows Admin to admins on every page, never to members, and marks the current section (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const member = await world.person(world.agencyId, { enrol: false });
  await world.sudo();
  const pages = ['/account', '/account/security', '/account/security/sessions', '/account/security/devices', '/account/activity', '/reauthenticate?next=%2Fadmin%2Fusers', '/deploy', '/admin/users', '/admin/clients', '/admin/organisations'];
  for (const path of pages) {
    const res = await world.admin.client.get(path);
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    assert.match(res.text, ADMIN_LINK, `${path} shows Admin to an admin`);
  }
  for (const path of pages.slice(0, 7)) {
    const res = await member.client.get(path);
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    assert.doesNotMatch(res.text, ADMIN_LINK, `${path} shows no Admin to a member`);
  }
  const marked = async (path: string) => [...(await world.admin.client.get(path)).text.matchAll(/<a href="([^"]+)" aria-current="(page|true)">/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual((await marked('/account/security/sessions')).filter((m) => !m.startsWith('/account/security/')), ['/account/security true']);
  assert.deepEqual(await marked('/account'), ['/account page']);
  assert.ok((await marked('/admin/clients')).includes('/admin/users true'));
  assert.ok((await marked('/deploy')).includes('/deploy page'));
  // Every admin page has the same width.
  for (const path of ['/admin/users', '/admin/clients', '/admin/organisations', '/admin/services/providers/new?kind=smtp']) {
    assert.match((await world.admin.client.get(path)).text, /<main id="main" class="wide">/, path);
  }
});

test(`each provider form carries setup instructions, the webhook's naming the real signature scheme (${backend})`, async (t) => {
  const world = await deployWorld(t);
  await world.sudo();
  const form = async (kind: string) => (await world.admin.client.get(`/admin/services/providers/new?kind=${kind}`)).text;
  assert.match(await form('twilio'), /Account SID.*Auth token.*Account Info/s);
  assert.match(await form('cdyne'), /license key<\/strong> is the GUID/);
  assert.match(await form('smtp'), /How to set it up/);
  const webhook = await form('webhook');
  assert.ok(webhook.includes(SIGNATURE_HEADER), 'names the signature header the sender sets');
  assert.match(webhook, /HMAC-SHA256.*&lt;t>\.&lt;raw body>/s);
  assert.match(webhook, /5 minutes/);
});
