/**
 * The words of every message, as plain functions returning `{subject, text, html}`. The SMS
 * channel sends `text` alone, so `text` of a code message is short and starts with the company
 * name (recipients must see who is writing before anything else). Every value placed in `html`
 * goes through `escapeHtml`; links must be http(s).
 */
import { invalidInput } from '../core/errors.js';

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/**
 * What a code is for; the message names it, so a code asked for one thing is not typed into
 * another. Each purpose matches one kind of stored code (store `OneTimeCodePurpose`).
 */
export type CodeAction =
  | { purpose: 'sign_in' }
  | { purpose: 'reauthentication' }
  /** Confirming a new phone number (`sms`) or email address. */
  | { purpose: 'enrolment'; channel: 'sms' | 'email' }
  /** Approving one deploy (or roll back) of a named target. */
  | { purpose: 'deploy'; targetName: string; rollback?: boolean };

export type CodePurpose = CodeAction['purpose'];

export type CodeMessageInput = CodeAction & {
  companyName: string;
  code: string;
  minutesValid: number;
  /**
   * The site's host name (e.g. `login.example.com`). When given, the text ends with the
   * origin-bound one-time-code line `@host #code`, so browsers (WebOTP) and phones can offer to
   * fill the code in on that site only.
   */
  host?: string;
};

export interface SecurityNoticeInput {
  companyName: string;
  /** e.g. "New sign-in to your account". */
  title: string;
  /** Label/value pairs shown as a small table, e.g. ['Browser', 'Firefox on Linux']. */
  lines: ReadonlyArray<readonly [string, string]>;
  /** Where to review or undo (account security page). */
  link?: string;
  /** What the link says; "Review your account security" unless the notice asks for something precise. */
  linkLabel?: string;
  /** What to do if it was not them; the general advice unless the notice knows better. */
  advice?: string;
}

export interface PasswordResetInput {
  companyName: string;
  link: string;
  minutesValid: number;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function minutes(n: number): string {
  return n === 1 ? '1 minute' : `${n} minutes`;
}

function checkCommon(companyName: string, minutesValid?: number): void {
  if (companyName.trim() === '' || /[\r\n]/.test(companyName)) throw invalidInput('template_input_invalid', 'companyName must be one non-empty line');
  if (minutesValid !== undefined && (!Number.isInteger(minutesValid) || minutesValid < 1)) {
    throw invalidInput('template_input_invalid', 'minutesValid must be a positive whole number');
  }
}

function checkLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw invalidInput('template_input_invalid', 'link must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidInput('template_input_invalid', 'link must be an http(s) URL');
  return url.href;
}

function layout(companyName: string, heading: string, body: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>',
    '<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1b1f;line-height:1.5;margin:0;padding:24px">',
    '<div style="max-width:520px;margin:0 auto">',
    `<p style="font-size:14px;color:#555;margin:0 0 16px">${escapeHtml(companyName)}</p>`,
    `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(heading)}</h1>`,
    body,
    '</div></body></html>',
  ].join('\n');
}

/** A target name as one short line: user input, so control characters and runs of space go. */
function oneLine(value: string, max: number): string {
  const line = value.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The action a code is for, as the text ("sign in") and the subject and heading ("sign in to Acme") say it. */
function actionOf(input: CodeMessageInput): { short: string; long: string; reason: string } {
  switch (input.purpose) {
    case 'sign_in':
      return {
        short: 'sign in',
        long: `sign in to ${input.companyName}`,
        reason: 'Someone, hopefully you, is signing in and asked for a code. If it was not you, ignore this message and consider changing your password.',
      };
    case 'reauthentication':
      return {
        short: 'confirm it is you',
        long: 'confirm it is you',
        reason: 'Someone signed in as you asked to confirm it is you before a sensitive change. If it was not you, ignore this message and change your password.',
      };
    case 'enrolment': {
      const what = input.channel === 'sms' ? 'this phone' : 'this email address';
      return { short: `add ${what}`, long: `add ${what}`, reason: `Use this code to add ${what} to your two-step sign-in. If you did not ask for it, ignore this message.` };
    }
    case 'deploy': {
      const name = oneLine(input.targetName, 40);
      if (name === '') throw invalidInput('template_input_invalid', 'targetName must not be empty');
      const action = input.rollback ? `approve the roll back of ${name}` : `approve the deploy to ${name}`;
      return {
        short: action,
        long: action,
        reason: `Someone signed in as you is about to ${input.rollback ? `roll back ${name}` : `deploy to ${name}`}. The code approves only the bundle they reviewed. If it was not you, do not share it and tell your administrator.`,
      };
    }
  }
}

/** A one-time code, naming what it is for: signing in, confirming it is you, adding a factor, approving a deploy. */
export function codeMessage(input: CodeMessageInput): RenderedMessage {
  const { companyName, code, minutesValid } = input;
  checkCommon(companyName, minutesValid);
  if (!/^\d{4,10}$/.test(code)) throw invalidInput('template_input_invalid', 'code must be 4 to 10 digits');
  if (input.host !== undefined && !HOST.test(input.host)) throw invalidInput('template_input_invalid', 'host must be a lower-case host name without scheme or port');
  const action = actionOf(input);
  const expiry = `It expires in ${minutes(minutesValid)}.`;
  // Who is writing, then the code, then what it is for: the first words a lock screen shows.
  const headline = `${companyName}: ${code} is your code to ${action.short}`;
  const sms = `${headline}. ${expiry} Don't share it.`;
  const text = input.host ? `${sms}\n\n@${input.host} #${code}` : sms;

  const subject = headline;
  const html = layout(
    companyName,
    `Your code to ${action.long}`,
    [
      `<p style="font-size:32px;font-weight:600;letter-spacing:6px;margin:0 0 16px">${escapeHtml(code)}</p>`,
      `<p style="margin:0 0 12px">${escapeHtml(expiry)} Don't share it with anyone; ${escapeHtml(companyName)} will never ask you for it.</p>`,
      `<p style="margin:0;color:#555;font-size:14px">${escapeHtml(action.reason)}</p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}

/** A notice about something that happened to the account (new sign-in, factor removed, ...). */
export function securityNotice(input: SecurityNoticeInput): RenderedMessage {
  const { companyName, title, lines } = input;
  checkCommon(companyName);
  if (title.trim() === '' || /[\r\n]/.test(title)) throw invalidInput('template_input_invalid', 'title must be one non-empty line');
  const link = input.link === undefined ? undefined : checkLink(input.link);
  const advice = input.advice ?? "If this wasn't you, secure your account now: change your password and review your sign-in methods.";
  const text = [
    `${companyName}: ${title}`,
    '',
    ...lines.map(([label, value]) => `${label}: ${value}`),
    '',
    advice,
    ...(link ? ['', link] : []),
  ].join('\n');
  const rows = lines
    .map(
      ([label, value]) =>
        `<tr><td style="padding:4px 16px 4px 0;color:#555;vertical-align:top">${escapeHtml(label)}</td><td style="padding:4px 0">${escapeHtml(value)}</td></tr>`,
    )
    .join('\n');
  const html = layout(
    companyName,
    title,
    [
      lines.length > 0 ? `<table style="border-collapse:collapse;margin:0 0 16px">\n${rows}\n</table>` : '',
      `<p style="margin:0 0 16px">${escapeHtml(advice)}</p>`,
      link ? `<p style="margin:0"><a href="${escapeHtml(link)}">${escapeHtml(input.linkLabel ?? 'Review your account security')}</a></p>` : '',
    ]
      .filter((part) => part !== '')
      .join('\n'),
  );
  return { subject: `${companyName}: ${title}`, text, html };
}

/** The single-use link of a forgotten-password request. */
export function passwordResetMessage(input: PasswordResetInput): RenderedMessage {
  const { companyName, minutesValid } = input;
  checkCommon(companyName, minutesValid);
  const link = checkLink(input.link);
  const expiry = `The link works once and expires in ${minutes(minutesValid)}.`;
  const note = "If you didn't ask to reset your password, ignore this message: your password stays as it is.";
  const text = [`${companyName}: reset your password`, '', 'Open this link to choose a new password:', link, '', expiry, note].join('\n');
  const html = layout(
    companyName,
    'Reset your password',
    [
      `<p style="margin:0 0 16px"><a href="${escapeHtml(link)}">Choose a new password</a></p>`,
      `<p style="margin:0 0 12px">${escapeHtml(expiry)}</p>`,
      `<p style="margin:0;color:#555;font-size:14px">${escapeHtml(note)}</p>`,
    ].join('\n'),
  );
  return { subject: `${companyName}: reset your password`, text, html };
}

export interface InvitationInput {
  companyName: string;
  link: string;
  /** Who invited them, as the invitee will recognise it (an email address). */
  invitedBy: string;
  daysValid: number;
}

/** An admin's invitation: the single-use link where the person chooses their first password. */
export function invitationMessage(input: InvitationInput): RenderedMessage {
  const { companyName, invitedBy, daysValid } = input;
  checkCommon(companyName);
  if (!Number.isInteger(daysValid) || daysValid < 1) throw invalidInput('template_input_invalid', 'daysValid must be a positive whole number');
  const link = checkLink(input.link);
  const title = `You are invited to ${companyName}`;
  const intro = `${invitedBy} added you to ${companyName}. Open this link to choose your password:`;
  const expiry = `The link works once and expires in ${daysValid === 1 ? '1 day' : `${daysValid} days`}. After choosing a password, sign in; you may be asked to set up a second sign-in method.`;
  const note = "If you don't know why you got this, ignore it: nothing happens until the link is used.";
  const text = [title, '', intro, link, '', expiry, note].join('\n');
  const html = layout(
    companyName,
    title,
    [
      `<p style="margin:0 0 16px">${escapeHtml(`${invitedBy} added you to ${companyName}.`)}</p>`,
      `<p style="margin:0 0 16px"><a href="${escapeHtml(link)}">Choose your password</a></p>`,
      `<p style="margin:0 0 12px">${escapeHtml(expiry)}</p>`,
      `<p style="margin:0;color:#555;font-size:14px">${escapeHtml(note)}</p>`,
    ].join('\n'),
  );
  return { subject: `${companyName}: ${title.charAt(0).toLowerCase()}${title.slice(1)}`, text, html };
}

export interface BackupCodesMessageInput {
  companyName: string;
  /** The account the codes belong to, as the person signs in with it. */
  account: string;
  codes: readonly string[];
  /** The security page, where the person can make a new set if this copy is not theirs to keep. */
  link: string;
}

/** A copy of a new set of backup codes, sent when the organisation asks for it (off by default). */
export function backupCodesMessage(input: BackupCodesMessageInput): RenderedMessage {
  const { companyName, account, codes } = input;
  checkCommon(companyName);
  if (codes.length === 0 || codes.some((c) => !/^[A-Za-z0-9-]{4,32}$/.test(c))) throw invalidInput('template_input_invalid', 'codes must be a non-empty list of backup codes');
  const link = checkLink(input.link);
  const subject = `${companyName}: your new backup codes`;
  const advice = 'Each code works once, when you cannot get a code from your usual method. Keep this message somewhere safe or delete it once you have saved the codes. If you did not create new codes, open your security page and create a new set now.';
  const text = [`Your new backup codes for ${account} at ${companyName}:`, '', ...codes, '', advice, '', link].join('\n');
  const html = layout(
    companyName,
    'Your new backup codes',
    [
      `<p style="margin:0 0 12px">For ${escapeHtml(account)}.</p>`,
      `<ol style="font-family:ui-monospace,monospace;font-size:18px;margin:0 0 16px">${codes.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ol>`,
      `<p style="margin:0 0 12px;color:#555;font-size:14px">${escapeHtml(advice)}</p>`,
      `<p style="margin:0"><a href="${escapeHtml(link)}">Open your security page</a></p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}
