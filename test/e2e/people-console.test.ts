import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { totpCodeAt } from '../../src/core/totp.js';
import { parseMail } from '../delivery/peers.js';
import { signedInClient } from '../helpers/authenticator.js';
import { bindChannel, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { addMember, agencyTree } from '../helpers/policy.js';
import { axeViolations } from './axe.js';
import { MOBILE, PASSWORD, cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('from the console an admin invites a person, requires 2FA for a role given to their group, and switches off one method of another user; the invitee follows the emailed link and lands in enrolment', async (t) => {
  const tree = await agencyTree(t);
  const smtp = await withSmtp(t);
  await bindChannel({ ...tree, orgId: tree.agencyId, adminId: '' }, 'email', smtpConfig(smtp));
  const adminEmail = ((await tree.admin.get('/api/v1/session')).json?.user as { email: string }).email;
  // Someone with two authenticators, one of which the admin will switch off.
  const holder = await addMember(tree.server, tree.agencyId);
  const holderClient = await signedInClient(tree.server, holder.email);
  const factorIds: string[] = [];
  for (const label of ['Old phone', 'Tablet']) {
    const started = await holderClient.post('/api/v1/factors/totp', { label });
    assert.equal((await holderClient.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(started.json?.secret as string, tree.clock.now()) })).status, 200);
    tree.clock.advance(30_000);
    factorIds.push(started.json?.id as string);
  }

  const admin = await openPage(browser, tree.server.url);
  const invitee = await openPage(browser, tree.server.url);
  try {
    await signInWithPassword(admin.page, adminEmail);
    await admin.page.waitForURL('**/account');

    // 1. Invite from the users page.
    await admin.page.goto('/admin/users');
    await admin.page.getByLabel('Email', { exact: true }).fill('grace@example.test');
    await admin.page.getByLabel('Name (optional)').fill('Grace Hopper');
    assert.deepEqual(await axeViolations(admin.page), []);
    await screenshot(admin.page, 'admin-users-invite');
    await admin.page.getByRole('button', { name: 'Send invitation' }).click();
    await admin.page.getByText('Invitation sent to grace@example.test').waitFor();
    assert.equal((await admin.page.getByTestId('user-status').textContent())?.trim(), 'Invited');
    assert.deepEqual(await axeViolations(admin.page), []);
    await screenshot(admin.page, 'admin-user-invited');

    // 2. A role that requires 2FA, given to a group the invitee joins; the page says beforehand whom it forces to enrol.
    await admin.page.getByRole('link', { name: 'Roles and groups' }).first().click();
    await admin.page.getByRole('heading', { name: 'Roles and groups', level: 1 }).waitFor();
    await admin.page.getByLabel('New role').fill('engineers');
    await admin.page.getByRole('button', { name: 'Create role' }).click();
    await admin.page.getByText('Role engineers created.').waitFor();
    await admin.page.getByLabel('New group').fill('Platform');
    await admin.page.getByRole('button', { name: 'Create group' }).click();
    await admin.page.getByText('Group Platform created.').waitFor();
    await admin.page.getByLabel('Give Platform the role').selectOption({ label: 'engineers' });
    await admin.page.getByRole('button', { name: 'Grant role' }).click();
    await admin.page.getByText('Role granted to the group.').waitFor();
    await admin.page.getByLabel('Add to Platform').selectOption({ label: 'Grace Hopper (grace@example.test)' });
    await admin.page.getByRole('button', { name: 'Add member' }).click();
    await admin.page.getByText('Member added.').waitFor();
    assert.deepEqual(await axeViolations(admin.page), []);
    await screenshot(admin.page, 'admin-roles');
    await admin.page.getByRole('button', { name: 'Require 2FA for engineers' }).click();
    assert.match((await admin.page.getByTestId('forced-to-enrol').textContent()) ?? '', /This makes 1 person set up two-step verification/);
    assert.deepEqual(await axeViolations(admin.page), []);
    await screenshot(admin.page, 'admin-role-requirement-confirm');
    await admin.page.getByRole('button', { name: 'Require 2FA' }).click();
    await admin.page.getByText('Two-step verification is now required for engineers.').waitFor();
    await admin.page.setViewportSize(MOBILE);
    assert.deepEqual(await axeViolations(admin.page), []);
    await screenshot(admin.page, 'admin-roles-390');

    // 3. The invitee follows the emailed link, chooses a password, signs in and must enrol.
    const mail = [...smtp.received].reverse().find((m) => m.rcptTo.includes('grace@example.test'));
    assert.ok(mail, 'the invitation was mailed');
    const link = /https?:\/\/\S+\/invitation\?token=[\w-]+/.exec(parseMail(mail.raw).text ?? '')?.[0];
    assert.ok(link, 'the mail carries the link');
    await invitee.page.goto(new URL(link).pathname + new URL(link).search);
    await invitee.page.getByRole('heading', { name: 'Choose your password' }).waitFor();
    assert.deepEqual(await axeViolations(invitee.page), []);
    await screenshot(invitee.page, 'invitation-accept');
    await invitee.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await invitee.page.getByLabel('Password again').fill(PASSWORD);
    await invitee.page.getByRole('button', { name: 'Set password' }).click();
    await invitee.page.getByRole('heading', { name: 'Your password is set' }).waitFor();
    assert.deepEqual(await axeViolations(invitee.page), []);
    await invitee.page.getByRole('link', { name: 'Sign in' }).last().click();
    await signInWithPassword(invitee.page, 'grace@example.test');
    await invitee.page.waitForURL('**/sign-in/enrol');
    await invitee.page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    // The link worked once: opening it again says so.
    const again = await invitee.context.newPage();
    await again.goto(new URL(link).pathname + new URL(link).search);
    await again.getByRole('heading', { name: 'This invitation cannot be used' }).waitFor();
    assert.deepEqual(await axeViolations(again), []);

    // 4. One method of another person is switched off; the other stays.
    await admin.page.setViewportSize({ width: 1280, height: 860 });
    await admin.page.goto(`/admin/users/${holder.user.id}`);
    await admin.page.getByRole('button', { name: 'Switch off Old phone' }).click();
    await admin.page.getByText('Old phone was switched off').waitFor();
    assert.equal(await admin.page.getByRole('button', { name: 'Switch off Tablet' }).count(), 1);
    assert.equal(await admin.page.getByRole('button', { name: 'Switch off Old phone' }).count(), 0);
    assert.deepEqual(await axeViolations(admin.page), []);
    assert.deepEqual(cspViolations([...admin.problems, ...invitee.problems]), []);
  } finally {
    await admin.context.close();
    await invitee.context.close();
  }
});
