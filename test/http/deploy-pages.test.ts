import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInTimeZone } from '../../src/core/time-zone.js';
import { wrongCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const backend = currentBackend();

/** The text of an HTML page without tags, whitespace collapsed, the entities preact writes decoded. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

test(`Deploy Now pages: list, target, review, refusals re-render with a 4xx, success shows when it went live (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person(world.agencyId, { timeZone: 'Asia/Tokyo' });
  const outsider = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(world.admin.client, target, 'agents/x', { state: 'started' }, 'Agent X started <b>now</b>');
  const base = `/deploy/targets/${target.id}`;

  const list = await deployer.client.get('/deploy');
  assert.equal(list.status, 200, list.text);
  assert.match(textOf(list.text), /Production 2FA to deploy Manual Nothing deployed yet 1 change pending/);

  const detail = await deployer.client.get(base);
  assert.equal(detail.status, 200, detail.text);
  const detailText = textOf(detail.text);
  assert.match(detailText, /Agent X started <b>now<\/b>/, 'summaries are shown as text, escaped');
  assert.ok(!detail.text.includes('<b>now</b>'));
  assert.match(detailText, new RegExp(`${deployer.email} 2FA on`));
  assert.match(detailText, /No deployments yet/);
  assert.match(detail.text, new RegExp(`href="${base}/deploy"`));

  // Review: exactly the pending change and the digest, which the form carries back.
  const preview = await world.preview(deployer.client, target);
  const review = await deployer.client.get(`${base}/deploy`);
  assert.equal(review.status, 200, review.text);
  assert.match(textOf(review.text), /This change goes live: Agent X started <b>now<\/b>/);
  assert.match(review.text, new RegExp(`data-testid="deploy-digest"[^>]*>${preview.digest}<`));
  const fields = await hiddenFields(deployer.client, `${base}/deploy`);
  assert.equal(fields.digest, preview.digest);
  assert.equal(fields.method, 'totp', 'one method: no select, a hidden field');
  assert.ok(fields._csrf);

  // A bad code: the page again, the reason, 401, nothing live.
  world.clock.advance(30_000);
  const bad = await postForm(deployer.client, `${base}/deploy`, { ...fields, code: wrongCode(deployer.secret, world.clock.now()) });
  assert.equal(bad.status, 401, bad.text);
  assert.match(textOf(bad.text), /That code is not correct/);
  assert.match(bad.text, /name="code"/);
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);

  // No code at all (the form requires one, but a crafted post does not): 403 and the reason.
  const none = await postForm(deployer.client, `${base}/deploy`, { ...fields, code: '' });
  assert.equal(none.status, 403, none.text);
  assert.match(textOf(none.text), /Enter a current code/);

  // The bundle changes under the page: 409, and the page now shows the new summary and digest.
  await world.addChange(world.admin.client, target, 'goals/y', 7, 'Goal Y changed');
  const changed = await postForm(deployer.client, `${base}/deploy`, { ...fields, code: world.code(deployer.secret) });
  assert.equal(changed.status, 409, changed.text);
  assert.match(textOf(changed.text), /changed after you reviewed it/);
  assert.match(textOf(changed.text), /These 2 changes go live: Agent X started <b>now<\/b> .* Goal Y changed/);
  const newPreview = await world.preview(deployer.client, target);
  assert.match(changed.text, new RegExp(`name="digest" value="${newPreview.digest}"`));
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);

  // Someone not on the list sees why and gets no form; a crafted post is 403.
  const outsiderView = await outsider.client.get(`${base}/deploy`);
  assert.equal(outsiderView.status, 200);
  assert.match(textOf(outsiderView.text), /not on the list of people who may deploy/);
  assert.ok(!outsiderView.text.includes('name="code"'));
  const outsiderFields = await hiddenFields(outsider.client, '/deploy');
  const crafted = await postForm(outsider.client, `${base}/deploy`, { _csrf: outsiderFields._csrf!, digest: newPreview.digest, method: 'totp', code: world.code(outsider.secret) });
  assert.equal(crafted.status, 403, crafted.text);
  assert.match(textOf(crafted.text), /not an authorised deployer/);

  // Without the form token nothing happens.
  const forged = await postForm(deployer.client, `${base}/deploy`, { digest: newPreview.digest, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(forged.status, 403);
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);

  // The right code deploys; the page says when, in the deployer's time zone.
  const fresh = await hiddenFields(deployer.client, `${base}/deploy`);
  assert.equal(fresh.digest, newPreview.digest);
  const ok = await postForm(deployer.client, `${base}/deploy`, { ...fresh, code: world.code(deployer.secret) });
  assert.equal(ok.status, 200, ok.text);
  const history = await world.history(deployer, target);
  assert.equal(history.length, 1);
  const wentLive = formatInTimeZone(Date.parse(history[0]!.createdAt), 'Asia/Tokyo');
  assert.match(textOf(ok.text), new RegExp(`Production went live ${wentLive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(ok.text, new RegExp(newPreview.digest));
  const served = await fetchBundle(target.bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { 'agents/x': { state: 'started' }, 'goals/y': 7 });

  // The target page now shows what is live and the history with approver, time, summary and digest.
  const after = textOf((await deployer.client.get(base)).text);
  assert.match(after, new RegExp(`Live now Since ${wentLive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, approved by ${deployer.email}`));
  assert.match(after, new RegExp(`${deployer.email} authenticator app Agent X started <b>now</b> Goal Y changed ${newPreview.digest.slice(7, 19)}`));
  assert.match(after, /Nothing is waiting/);
  const nothing = await deployer.client.get(`${base}/deploy`);
  assert.match(textOf(nothing.text), /Nothing is pending/);
  assert.ok(!nothing.text.includes('name="code"'));
});

test(`rolling back from the page takes a code and serves the earlier bundle (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(deployer.client, target, 'v', 1, 'Version 1');
  const v1 = await world.deployNow(deployer, target);
  await world.addChange(deployer.client, target, 'v', 2, 'Version 2');
  await world.deployNow(deployer, target);
  const base = `/deploy/targets/${target.id}`;

  const detail = await deployer.client.get(base);
  assert.match(detail.text, new RegExp(`href="${base}/deploy\\?rollback=${v1.id}"`));
  const fields = await hiddenFields(deployer.client, `${base}/deploy?rollback=${v1.id}`);
  assert.equal(fields.rollbackTo, v1.id);
  assert.equal(fields.digest, v1.digest);
  const noCode = await postForm(deployer.client, `${base}/deploy`, { ...fields, code: '' });
  assert.equal(noCode.status, 403);
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { v: 2 });
  const ok = await postForm(deployer.client, `${base}/deploy`, { ...fields, code: world.code(deployer.secret) });
  assert.equal(ok.status, 200, ok.text);
  assert.match(textOf(ok.text), /Rolled back/);
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { v: 1 });
});

test(`deploy pages need a session and name only targets the viewer may see (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Client prod', timing: 'manual', requireTwoFactor: true }, world.clientOrgId);
  const anonymous = new TestClient(world.server.url);
  for (const path of ['/deploy', `/deploy/targets/${target.id}`, `/deploy/targets/${target.id}/deploy`]) {
    const res = await anonymous.get(path);
    assert.equal(res.status, 303, path);
    assert.equal(res.headers.get('location'), '/sign-in');
  }
  const sibling = await world.server.services.accounts.createOrganisation('Other client', world.agencyId, { userId: null, meta: null });
  const stranger = await world.person(sibling.id);
  assert.ok(!(await stranger.client.get('/deploy')).text.includes('Client prod'));
  for (const path of [`/deploy/targets/${target.id}`, `/deploy/targets/${target.id}/deploy`, '/deploy/targets/no-such-target/deploy']) {
    const res = await stranger.client.get(path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  }
  assert.match((await world.admin.client.get('/deploy')).text, /Client prod/);
});
