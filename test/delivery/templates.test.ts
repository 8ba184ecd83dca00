import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeMessage, escapeHtml, invitationMessage, passwordResetMessage, securityNotice } from '../../src/delivery/templates.js';

test('sign-in code: short SMS text that starts with the company name and says what the code is for', () => {
  const m = codeMessage({ companyName: 'Acme', code: '123456', minutesValid: 10, purpose: 'sign_in' });
  assert.equal(m.text, "Acme: 123456 is your code to sign in. It expires in 10 minutes. Don't share it.");
  assert.ok(m.text.length <= 160, 'fits one SMS segment');
  assert.equal(m.subject, 'Acme: 123456 is your code to sign in');
  assert.match(m.html, />123456</);
  assert.match(m.html, /Your code to sign in to Acme/);
});

test('enrolment code names the factor being added, singular minute, and the WebOTP origin-bound line when a host is given', () => {
  const m = codeMessage({ companyName: 'Acme', code: '004321', minutesValid: 1, purpose: 'enrolment', channel: 'sms', host: 'login.acme.test' });
  assert.equal(m.text, "Acme: 004321 is your code to add this phone. It expires in 1 minute. Don't share it.\n\n@login.acme.test #004321");
  assert.equal(m.text.split('\n').at(-1), '@login.acme.test #004321', 'the origin-bound line is the last line');
  assert.equal(m.subject, 'Acme: 004321 is your code to add this phone');
  const email = codeMessage({ companyName: 'Acme', code: '004321', minutesValid: 10, purpose: 'enrolment', channel: 'email' });
  assert.equal(email.subject, 'Acme: 004321 is your code to add this email address');
  assert.match(email.html, /add this email address/);
});

test('re-authentication and deploy codes say which action they confirm', () => {
  const reauth = codeMessage({ companyName: 'Acme', code: '111222', minutesValid: 10, purpose: 'reauthentication' });
  assert.equal(reauth.text, "Acme: 111222 is your code to confirm it is you. It expires in 10 minutes. Don't share it.");
  assert.equal(reauth.subject, 'Acme: 111222 is your code to confirm it is you');
  assert.match(reauth.html, /Your code to confirm it is you/);

  const deploy = codeMessage({ companyName: 'Acme', code: '333444', minutesValid: 10, purpose: 'deploy', targetName: 'Production' });
  assert.equal(deploy.text, "Acme: 333444 is your code to approve the deploy to Production. It expires in 10 minutes. Don't share it.");
  assert.equal(deploy.subject, 'Acme: 333444 is your code to approve the deploy to Production');
  assert.ok(deploy.text.length <= 160, 'fits one SMS segment');
  const rollback = codeMessage({ companyName: 'Acme', code: '333444', minutesValid: 10, purpose: 'deploy', targetName: 'Production', rollback: true });
  assert.equal(rollback.subject, 'Acme: 333444 is your code to approve the roll back of Production');

  // A target name is someone's input: one short line in a subject, escaped in HTML.
  const odd = codeMessage({ companyName: 'Acme', code: '333444', minutesValid: 10, purpose: 'deploy', targetName: '<b>Prod</b>\r\nBcc: x@example.com' + 'x'.repeat(80) });
  assert.ok(!/[\r\n]/.test(odd.subject), odd.subject);
  assert.ok(odd.subject.length < 100, odd.subject);
  assert.ok(!odd.html.includes('<b>Prod'), 'escaped');
  assert.throws(() => codeMessage({ companyName: 'Acme', code: '333444', minutesValid: 10, purpose: 'deploy', targetName: ' \n ' }), { code: 'template_input_invalid' });
});

test('code messages refuse bad input rather than render it', () => {
  const base = { companyName: 'Acme', code: '123456', minutesValid: 10, purpose: 'sign_in' as const };
  assert.throws(() => codeMessage({ ...base, code: '12ab56' }), { code: 'template_input_invalid' });
  assert.throws(() => codeMessage({ ...base, minutesValid: 0 }), { code: 'template_input_invalid' });
  assert.throws(() => codeMessage({ ...base, host: 'https://login.acme.test' }), { code: 'template_input_invalid' });
  assert.throws(() => codeMessage({ ...base, host: 'login.acme.test:8443' }), { code: 'template_input_invalid' });
  assert.throws(() => codeMessage({ ...base, companyName: 'Acme\r\nBcc: x' }), { code: 'template_input_invalid' });
});

test('HTML escapes every interpolated value', () => {
  const evil = `<script>alert("x")</script>&'`;
  const code = codeMessage({ companyName: evil, code: '123456', minutesValid: 10, purpose: 'sign_in' });
  assert.ok(!code.html.includes('<script>'), code.html);
  assert.ok(code.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;'));
  assert.ok(code.text.startsWith(evil), 'plain text is not HTML and stays as written');

  const notice = securityNotice({
    companyName: 'Acme',
    title: 'New sign-in from <b>somewhere</b>',
    lines: [
      ['Browser', '"><img src=x onerror=alert(1)>'],
      ['<i>Where</i>', 'Paris & Lyon'],
    ],
    link: 'https://login.acme.test/account/security?x="><script>',
  });
  for (const needle of ['<b>somewhere', '<img', '<i>Where', '"><script>']) assert.ok(!notice.html.includes(needle), needle);
  assert.ok(notice.html.includes('New sign-in from &lt;b&gt;somewhere&lt;/b&gt;'));
  assert.ok(notice.html.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(notice.html.includes('Paris &amp; Lyon'));
  assert.ok(notice.html.includes('href="https://login.acme.test/account/security?x=%22%3E%3Cscript%3E"'));
  assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
});

test('security notice: subject, label/value lines and the link in the text', () => {
  const notice = securityNotice({
    companyName: 'Acme',
    title: 'Text-message sign-in was turned off',
    lines: [
      ['When', '2 Jan 2025, 03:04 UTC'],
      ['Phone', '+1 ••• ••• 2671'],
    ],
    link: 'https://login.acme.test/account/security',
  });
  assert.equal(notice.subject, 'Acme: Text-message sign-in was turned off');
  assert.ok(notice.text.startsWith('Acme: Text-message sign-in was turned off\n\nWhen: 2 Jan 2025, 03:04 UTC\nPhone: +1 ••• ••• 2671\n'));
  assert.ok(notice.text.endsWith('\nhttps://login.acme.test/account/security'));
  assert.throws(() => securityNotice({ companyName: 'Acme', title: 'x', lines: [], link: 'javascript:alert(1)' }), { code: 'template_input_invalid' });
  assert.ok(!securityNotice({ companyName: 'Acme', title: 'x', lines: [] }).html.includes('<a '));
});

test('password reset: the link, its lifetime, and reassurance when not requested', () => {
  const m = passwordResetMessage({ companyName: 'Acme', link: 'https://login.acme.test/reset?token=abc', minutesValid: 30 });
  assert.equal(m.subject, 'Acme: reset your password');
  assert.ok(m.text.includes('https://login.acme.test/reset?token=abc'));
  assert.ok(m.text.includes('expires in 30 minutes'));
  assert.ok(m.html.includes('href="https://login.acme.test/reset?token=abc"'));
});

test('invitation: who invited, the single-use link and its lifetime in days; the inviter is escaped in HTML', () => {
  const m = invitationMessage({ companyName: 'Acme', link: 'https://login.acme.test/invitation?token=abc', invitedBy: '<admin>@acme.test', daysValid: 7 });
  assert.equal(m.subject, 'Acme: you are invited to Acme');
  assert.ok(m.text.includes('<admin>@acme.test added you to Acme'));
  assert.ok(m.text.includes('https://login.acme.test/invitation?token=abc'));
  assert.ok(m.text.includes('works once and expires in 7 days'));
  assert.ok(m.html.includes('href="https://login.acme.test/invitation?token=abc"'));
  assert.ok(m.html.includes('&lt;admin&gt;@acme.test'));
  assert.ok(!m.html.includes('<admin>'));
  assert.throws(() => invitationMessage({ companyName: 'Acme', link: 'not a url', invitedBy: 'a@b.c', daysValid: 7 }));
  assert.throws(() => invitationMessage({ companyName: 'Acme', link: 'https://x.test/', invitedBy: 'a@b.c', daysValid: 0 }));
});
