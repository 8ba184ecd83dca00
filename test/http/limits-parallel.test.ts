/**
 * Security findings 2 and 11: every limit reserves its slot before the work, so a burst of
 * parallel requests, on one node or several, gets at most the limit judged or sent. Before the
 * fix 59 of 60 parallel wrong passwords were judged against a limit of 10, 39 reset mails went
 * to one address against 5, 28 codes to one number against 8 and 49 backup codes against 10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, enrolledMember, startTwoNodesWithMember, tally } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { auditEvents, bindChannel, deliveryWorld, newMember, passwordStepIn, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer } from '../helpers/server.js';

const BURST = 60;

test(`${BURST} parallel wrong passwords over two nodes: at most 10 are judged, the rest are refused before argon2`, async (t) => {
  const { nodes, member } = await startTwoNodesWithMember(t);
  const results = await Promise.all(
    Array.from({ length: BURST }, (_, i) => new TestClient(nodes[i % 2]!.url).post('/api/v1/auth/sign-in', { email: member.email, password: `wrong password ${i}` })),
  );
  const counts = tally(results.map((r) => r.status));
  const judged = await auditEvents(nodes[0], 'sign_in.failed', { subjectUserId: member.user.id });
  assert.ok(judged.length <= 10, `judged ${judged.length}: ${JSON.stringify(counts)}`);
  assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), BURST, JSON.stringify(counts));
  assert.equal(counts[401], judged.length);
  // The right password is refused too while the window is full: the limit is per account.
  const right = await new TestClient(nodes[1].url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(right.status, 429, right.text);
});

test(`${BURST} parallel password-reset requests for one address send at most 5 mails`, async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  const results = await Promise.all(Array.from({ length: BURST }, () => new TestClient(world.server.url).post('/api/v1/auth/password-reset', { email: member.email })));
  const counts = tally(results.map((r) => r.status));
  const requested = await auditEvents(world.server, 'password_reset.requested', { subjectUserId: member.userId });
  assert.ok(requested.length <= 5, `${requested.length} links made: ${JSON.stringify(counts)}`);
  assert.equal(counts[202], requested.length, JSON.stringify(counts));
  assert.equal(counts[429], BURST - requested.length);
  await new Promise((r) => setTimeout(r, 500)); // mail goes out after the answer
  assert.ok(smtp.received.filter((m) => m.rcptTo.includes(member.email)).length <= 5);
});

test(`${BURST} parallel code sends to one address (one per sign-in) stay within the per-user limit of 10`, async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const mail = smtp.received.at(-1);
  assert.ok(mail);
  const code = /\b(\d{6})\b/.exec(mail.raw.replace(/=\r?\n/g, ''))?.[1];
  assert.ok(code);
  assert.equal((await member.client.post(`/api/v1/factors/email/${started.json?.id as string}/confirm`, { code })).status, 200);
  world.clock.advance(61 * 60_000); // a fresh hour for every send counter
  const flows = [];
  for (let i = 0; i < BURST; i++) flows.push(await passwordStepIn(world, member.email));
  const before = smtp.received.length;
  const results = await Promise.all(flows.map((f) => f.browser.post('/api/v1/auth/second-factor/send', { challenge: f.challenge, method: 'email' })));
  const counts = tally(results.map((r) => r.status));
  const sent = (await auditEvents(world.server, 'code.sent', { subjectUserId: member.userId })).filter((e) => e.details.purpose === 'sign_in');
  assert.ok(sent.length <= 10, `${sent.length} codes sent: ${JSON.stringify(counts)}`);
  assert.equal(counts[429], BURST - (counts[200] ?? 0), JSON.stringify(counts));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(smtp.received.length - before <= 10, `${smtp.received.length - before} mails`);
});

test(`${BURST} parallel wrong backup codes: at most 10 are judged`, async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await enrolledMember(server, clock);
  const flows: Array<{ client: TestClient; challenge: string }> = [];
  for (let i = 0; i < BURST; i++) {
    const client = new TestClient(server.url);
    const res = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    flows.push({ client, challenge: res.json?.challenge as string });
  }
  const results = await Promise.all(flows.map((f, i) => f.client.post('/api/v1/auth/second-factor', { challenge: f.challenge, method: 'backup_code', code: `wrong-${String(i).padStart(4, '0')}` })));
  const counts = tally(results.map((r) => r.status));
  const judged = (await auditEvents(server, 'second_factor.failed', { subjectUserId: member.user.id })).filter((e) => e.details.method === 'backup_code');
  assert.ok(judged.length <= 10, `judged ${judged.length}: ${JSON.stringify(counts)}`);
  assert.equal(counts[401], judged.length, JSON.stringify(counts));
  assert.equal(counts[429], BURST - judged.length);
});
