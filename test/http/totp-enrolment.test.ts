import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { totpCodeAt } from '../../src/core/totp.js';
import { totpSecretContext } from '../../src/services/secret-contexts.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { decodeQrSvg } from '../helpers/qr-decode.js';
import { startTestServer } from '../helpers/server.js';
import { auditTypes, createMember, dbOf, enrolledMember, freshCode, signedInClient, wrongCode } from '../helpers/authenticator.js';

const BACKUP_CODE_FORMAT = /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/;

async function setup(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}) {
  const clock = new TestClock();
  const server = await startTestServer({ clock, env });
  t.after(() => server.close());
  return { clock, server };
}

test('enrolment returns a Key URI in the documented format and a QR code that decodes to exactly it', async (t) => {
  const { server } = await setup(t, { TWOFOLD_COMPANY_NAME: 'Acme Corp' });
  const { email } = await createMember(server, 'alice.smith+2fa@example.com');
  const client = await signedInClient(server, email);

  const res = await client.post('/api/v1/factors/totp', { label: 'Work phone' });
  assert.equal(res.status, 201, res.text);
  const { id, secret, uri, qrSvg } = res.json as { id: string; secret: string; uri: string; qrSvg: string };
  assert.match(id, /\S/);
  assert.match(secret, /^[A-Z2-7]{32}$/, 'base32 of 160 bits');
  assert.equal(uri, `otpauth://totp/Acme%20Corp:alice.smith%2B2fa%40example.com?secret=${secret}&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30`);
  assert.match(qrSvg, /^<svg[\s>]/);
  assert.equal(await decodeQrSvg(qrSvg), uri);
});

test('the secret is stored encrypted: the factor row never holds it in plaintext', async (t) => {
  const { server } = await setup(t);
  const { email, user } = await createMember(server);
  const client = await signedInClient(server, email);
  const res = await client.post('/api/v1/factors/totp');
  assert.equal(res.status, 201, res.text);
  const { id, secret } = res.json as { id: string; secret: string };

  const row = await dbOf(server).selectFrom('factors').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.user_id, user.id);
  assert.equal(row.status, 'pending');
  const dump = JSON.stringify(row);
  for (const form of [secret, secret.toLowerCase(), secret.match(/.{4}/g)!.join(' ')]) {
    assert.ok(!dump.includes(form), `row must not contain ${form}`);
  }
  const rawSecret = Buffer.from(
    [...secret].reduce((bits, ch) => bits + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(ch).toString(2).padStart(5, '0'), '').match(/.{8}/g)!.map((b) => parseInt(b, 2)),
  );
  for (const encoding of ['hex', 'base64', 'base64url'] as const) {
    assert.ok(!dump.includes(rawSecret.toString(encoding)), `row must not contain the key as ${encoding}`);
  }
  // It is the sealed secret, bound to this factor.
  assert.equal(server.runtime.box.decrypt(row.secret_encrypted, totpSecretContext(id)), secret);
});

test('a wrong code is refused with 401 code_invalid and the factor stays pending', async (t) => {
  const { server, clock } = await setup(t);
  const { email, user } = await createMember(server);
  const client = await signedInClient(server, email);
  const { id, secret } = (await client.post('/api/v1/factors/totp')).json as { id: string; secret: string };

  const res = await client.post(`/api/v1/factors/totp/${id}/confirm`, { code: wrongCode(secret, clock.now()) });
  assert.equal(res.status, 401);
  assert.equal(res.json?.error?.code, 'code_invalid');

  const row = await dbOf(server).selectFrom('factors').select(['status', 'confirmed_at']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.deepEqual(row, { status: 'pending', confirmed_at: null });
  assert.deepEqual((await client.get('/api/v1/factors')).json?.factors, []);
  assert.equal((await dbOf(server).selectFrom('backup_codes').select('id').where('user_id', '=', user.id).execute()).length, 0);
  assert.ok(!(await auditTypes(server, user.id)).includes('factor.confirmed'));
  // Signing in still needs the password only: a pending factor is not a factor.
  const again = await new TestClient(server.url).post('/api/v1/auth/sign-in', { email, password: 'correct horse battery staple 42' });
  assert.equal(again.json?.status, 'signed_in');
});

test('a code from oathtool switches the authenticator on and returns 10 backup codes, once', async (t) => {
  const { server, clock } = await setup(t);
  const { email } = await createMember(server);
  const client = await signedInClient(server, email);
  const { id, secret } = (await client.post('/api/v1/factors/totp', { label: 'Phone' })).json as { id: string; secret: string };

  const code = execFileSync('/usr/bin/oathtool', ['--totp', '-b', '--now', `@${Math.floor(clock.now() / 1000)}`, secret], { encoding: 'utf8' }).trim();
  assert.match(code, /^\d{6}$/);
  const res = await client.post(`/api/v1/factors/totp/${id}/confirm`, { code });
  assert.equal(res.status, 200, res.text);
  const body = res.json as { factor: { id: string; status: string; label: string; type: string }; backupCodes: string[] };
  assert.equal(body.factor.id, id);
  assert.equal(body.factor.status, 'active');
  assert.equal(body.factor.type, 'totp');
  assert.equal(body.factor.label, 'Phone');
  assert.equal(body.backupCodes.length, 10);
  for (const c of body.backupCodes) assert.match(c, BACKUP_CODE_FORMAT);
  assert.equal(new Set(body.backupCodes).size, 10);

  const listed = await client.get('/api/v1/factors');
  assert.equal(listed.status, 200);
  const factors = listed.json?.factors as Array<{ id: string; status: string }>;
  assert.deepEqual(factors.map((f) => [f.id, f.status]), [[id, 'active']]);
  assert.equal((listed.json?.backupCodes as { remaining: number }).remaining, 10);
  for (const c of body.backupCodes) assert.ok(!listed.text.includes(c), 'backup codes are shown only once');
  assert.ok(!listed.text.includes(secret), 'the secret is shown only at enrolment');

  // Confirming again is refused and hands out nothing.
  clock.advance(30_000);
  const again = await client.post(`/api/v1/factors/totp/${id}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(again.status, 409);
  assert.equal(again.json?.error?.code, 'factor_already_confirmed');
  assert.equal(again.json?.backupCodes, undefined);
});

test('a second authenticator keeps its own label and brings no new backup codes', async (t) => {
  const { server, clock } = await setup(t);
  const member = await enrolledMember(server, clock);
  const before = await dbOf(server).selectFrom('backup_codes').select(['id', 'code_hash']).where('user_id', '=', member.user.id).orderBy('id').execute();
  assert.equal(before.length, 10);

  const started = await member.client.post('/api/v1/factors/totp', { label: 'Tablet' });
  assert.equal(started.status, 201, started.text);
  const { id, secret } = started.json as { id: string; secret: string };
  assert.notEqual(secret, member.secret);
  const res = await member.client.post(`/api/v1/factors/totp/${id}/confirm`, { code: freshCode(secret, clock) });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.backupCodes, undefined);
  assert.equal((res.json?.factor as { label: string }).label, 'Tablet');

  const factors = (await member.client.get('/api/v1/factors')).json?.factors as Array<{ id: string; label: string }>;
  assert.deepEqual(factors.map((f) => f.label), ['Phone', 'Tablet']);
  const after = await dbOf(server).selectFrom('backup_codes').select(['id', 'code_hash']).where('user_id', '=', member.user.id).orderBy('id').execute();
  assert.deepEqual(after, before);
});

test('an unconfirmed enrolment expires: after 16 minutes confirming gives 410 enrolment_expired', async (t) => {
  const { server, clock } = await setup(t);
  const { email, user } = await createMember(server);
  const client = await signedInClient(server, email);
  const { id, secret, expiresAt } = (await client.post('/api/v1/factors/totp')).json as { id: string; secret: string; expiresAt: string };
  assert.equal(Date.parse(expiresAt), clock.now() + 15 * 60_000);

  clock.advance(16 * 60_000);
  const res = await client.post(`/api/v1/factors/totp/${id}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(res.status, 410);
  assert.equal(res.json?.error?.code, 'enrolment_expired');
  assert.deepEqual((await client.get('/api/v1/factors')).json?.factors, []);
  const row = await dbOf(server).selectFrom('factors').select('status').where('id', '=', id).executeTakeFirst();
  assert.notEqual(row?.status, 'active');
  assert.equal((await dbOf(server).selectFrom('users').select('totp_last_step').where('id', '=', user.id).executeTakeFirstOrThrow()).totp_last_step, null);
});

test('an enrolment is still usable just before it expires', async (t) => {
  const { server, clock } = await setup(t);
  const { email } = await createMember(server);
  const client = await signedInClient(server, email);
  const { id, secret } = (await client.post('/api/v1/factors/totp')).json as { id: string; secret: string };
  clock.advance(14 * 60_000);
  const res = await client.post(`/api/v1/factors/totp/${id}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(res.status, 200, res.text);
});

test('enrolment refuses bad requests with 4xx and writes nothing', async (t) => {
  const { server, clock } = await setup(t);
  const alice = await createMember(server);
  const bob = await createMember(server);
  const aliceClient = await signedInClient(server, alice.email);
  const bobClient = await signedInClient(server, bob.email);
  const countFactors = async () => (await dbOf(server).selectFrom('factors').select('id').execute()).length;

  const anonymous = await new TestClient(server.url).post('/api/v1/factors/totp', {});
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json?.error?.code, 'not_signed_in');
  const tooLong = await aliceClient.post('/api/v1/factors/totp', { label: 'x'.repeat(65) });
  assert.equal(tooLong.status, 400);
  const extra = await aliceClient.post('/api/v1/factors/totp', { label: 'a', secret: 'JBSWY3DPEHPK3PXP' });
  assert.equal(extra.status, 400, 'a client cannot choose the secret');
  assert.equal(await countFactors(), 0);

  const { id, secret } = (await aliceClient.post('/api/v1/factors/totp')).json as { id: string; secret: string };
  const code = totpCodeAt(secret, clock.now());
  const notYours = await bobClient.post(`/api/v1/factors/totp/${id}/confirm`, { code });
  assert.equal(notYours.status, 404);
  assert.equal(notYours.json?.error?.code, 'factor_not_found');
  const unknown = await aliceClient.post('/api/v1/factors/totp/00000000-0000-0000-0000-000000000000/confirm', { code });
  assert.equal(unknown.status, 404);
  for (const body of [{}, { code: 123456 }, { code: '' }, { code: '1'.repeat(17) }]) {
    const res = await aliceClient.post(`/api/v1/factors/totp/${id}/confirm`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.json?.error?.code, 'invalid_request');
  }
  const row = await dbOf(server).selectFrom('factors').select('status').where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'pending');
  // The refusals above did not spend the code: Alice can still confirm with it.
  const ok = await aliceClient.post(`/api/v1/factors/totp/${id}/confirm`, { code });
  assert.equal(ok.status, 200, ok.text);
});
