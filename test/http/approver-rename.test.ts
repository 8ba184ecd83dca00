import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { FakePhone } from '../helpers/approver.js';
import { dbOf, enrolledMember, serverWithEnrolledMember } from '../helpers/authenticator.js';
import { postForm } from '../helpers/forms.js';

test('a person renames a paired phone (API and Security page); bad names are 400 with a stable code and change nothing', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const link = await member.client.post('/api/v1/approvers/pairings');
  const phone = new FakePhone();
  await phone.pair(new TestClient(server.url), link.json?.url as string);

  const renamed = await member.client.request('PATCH', `/api/v1/approvers/${phone.deviceId}`, { name: '  Work phone  ' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json?.name, 'Work phone');
  const audit = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'approver.renamed').where('subject_user_id', '=', member.user.id).executeTakeFirstOrThrow();
  assert.equal((JSON.parse(audit.details) as { name: string }).name, 'Work phone');

  for (const [name, code] of [
    ['', 'label_invalid'],
    ['   ', 'label_invalid'],
    ['Line one\nline two', 'label_invalid'],
    ['x'.repeat(65), null],
  ] as const) {
    const res = await member.client.request('PATCH', `/api/v1/approvers/${phone.deviceId}`, { name });
    assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
    const error = res.json?.error as { code: string } | undefined;
    assert.ok(error?.code, res.text);
    if (code) assert.equal(error.code, code);
  }
  // Someone else's phone reads as not found.
  const other = await enrolledMember(server, clock);
  const theirs = await other.client.request('PATCH', `/api/v1/approvers/${phone.deviceId}`, { name: 'Mine now' });
  assert.equal(theirs.status, 404, theirs.text);
  assert.equal((theirs.json?.error as { code: string }).code, 'approver_not_found');
  const row = await dbOf(server).selectFrom('approver_devices').select('name').where('id', '=', phone.deviceId).executeTakeFirstOrThrow();
  assert.equal(row.name, 'Work phone', 'refused renames changed nothing');

  // The Security page's phones: rename in place.
  const page = await member.client.get('/account/security/approvers');
  assert.match(page.text, /Rename Work phone/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const byPage = await postForm(member.client, `/account/security/approvers/${phone.deviceId}/rename`, { _csrf: csrf, name: 'Pixel at home' });
  assert.equal(byPage.status, 200, byPage.text);
  assert.match(byPage.text, /now called “Pixel at home”/);
  const bad = await postForm(member.client, `/account/security/approvers/${phone.deviceId}/rename`, { _csrf: csrf, name: ' ' });
  assert.equal(bad.status, 400, bad.text);
  assert.equal((await dbOf(server).selectFrom('approver_devices').select('name').where('id', '=', phone.deviceId).executeTakeFirstOrThrow()).name, 'Pixel at home');
});
