import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { wrongCodes } from '../helpers/authenticator.js';
import { bindChannel, deliveryWorld, newMember, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { parseMail } from '../delivery/peers.js';
import { axeViolations } from './axe.js';
import { cspViolations, launchBrowser, openPage, signInWithPassword } from './browser.js';

test('in Chromium: wrong codes say how many tries are left, the lock counts down and survives a reload, and the owner is emailed', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/totp', { label: 'Phone' });
  const secret = started.json?.secret as string;
  const confirmed = await member.client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(secret, world.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  const mailsBefore = smtp.received.length;

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    await signInWithPassword(page, member.email);
    await page.waitForURL('**/sign-in/second-factor');
    const said: string[] = [];
    for (const code of wrongCodes(secret, world.clock.now(), 5)) {
      await page.getByLabel('Code from your authenticator app').fill(code);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').waitFor();
      said.push(((await page.getByRole('alert').textContent()) ?? '').trim());
    }
    assert.deepEqual(said, [
      'That code is not correct.',
      'That code is not correct. 3 more wrong codes lock codes for 1 minute.',
      'That code is not correct. 2 more wrong codes lock codes for 1 minute.',
      'That code is not correct. One more wrong code locks codes for 1 minute.',
      'That code is not correct. Too many wrong codes: codes are locked for 1 minute. Wait, or use a backup code.',
    ]);

    // The lock, counting down in the page.
    const lock = page.getByTestId('codes-locked');
    assert.match((await lock.textContent()) ?? '', /locked for 1:00 \(until .+\)\.A backup code still works meanwhile\./);
    await page.waitForFunction(() => /locked for 0:5\d/.test(document.querySelector('[data-testid=codes-locked]')?.textContent ?? ''), null, { timeout: 4_000 });
    assert.deepEqual(await axeViolations(page), []);

    // A reload reads the lock from the account again: still there, still counting.
    await page.reload();
    await page.getByTestId('codes-locked').waitFor();
    assert.match((await page.getByTestId('codes-locked').textContent()) ?? '', /Codes are locked for \d:\d\d/);

    // The owner's mailbox, through real SMTP: someone has the password.
    await waitFor(() => smtp.received.length > mailsBefore);
    const mail = smtp.received.slice(mailsBefore).find((m) => m.rcptTo.includes(member.email));
    assert.ok(mail, 'the owner was emailed');
    const parsed = parseMail(mail.raw);
    assert.match(parsed.headers.get('subject') ?? '', /Your sign-in codes are locked/);
    assert.match(parsed.text ?? '', /5 wrong codes were entered after your password was accepted\. Codes are locked for 1 minute\./);
    assert.match(parsed.text ?? '', /Someone has your password/);
    assert.ok((parsed.text ?? '').includes(`${world.server.url}/account`), 'a link to change the password');
    assert.deepEqual(cspViolations(problems), []);
    assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await context.close();
  }
});

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
