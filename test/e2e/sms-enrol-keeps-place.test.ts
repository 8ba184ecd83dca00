import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memberInChromium } from '../helpers/browser-world.js';
import { bindChannel, codeFromTwilio, twilioConfig, withTwilio } from '../helpers/delivery.js';
import { axeViolations } from './axe.js';
import { cspViolations, openPage, signInWithPassword } from './browser.js';

const PHONE = { country: 'US', number: '(415) 555-2671', e164: '+14155552671' };

test('in Chromium: a wrong code while adding a phone keeps the page and the texted code; the right one then turns it on', async (t) => {
  const { world, browser, email } = await memberInChromium(t, 'Fox Mulder', 'fox@example.com');
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));

  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');
    await page.goto('/account/security');
    await page.locator('#add-phone-country').selectOption(PHONE.country);
    await page.locator('#add-phone-number').fill(PHONE.number);
    await page.getByRole('button', { name: 'Add phone' }).click();
    await page.getByRole('heading', { name: 'Confirm your phone' }).waitFor();
    assert.equal(twilio.requests.length, 1, 'one text went out');
    const { code } = codeFromTwilio(twilio, PHONE.e164);

    // A wrong code: the same page, the refusal next to the field, and no new text.
    await page.getByLabel('Code from the text message').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#code-error').waitFor();
    await page.getByRole('heading', { name: 'Confirm your phone' }).waitFor();
    assert.equal(twilio.requests.length, 1, 'the wrong code sent nothing new');
    assert.deepEqual(await axeViolations(page), []);

    // The code already texted still works: no second text, no starting over.
    await page.getByLabel('Code from the text message').fill(code);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    assert.equal(twilio.requests.length, 1);
    const factors = await world.server.runtime.database.db.selectFrom('factors').select(['type', 'status']).execute();
    assert.deepEqual(factors, [{ type: 'sms', status: 'active' }]);
    assert.deepEqual(cspViolations(problems), []);
    assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await context.close();
  }
});
