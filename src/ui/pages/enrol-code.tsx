import { phoneNumbering } from '../../core/phone-numbering.js';
import type { ComponentChildren } from 'preact';
import type { PageChrome } from '../layout.js';
import { Alert, CodeInput, CsrfField, Layout } from '../layout.js';

/** What each method is called on every page, so the sign-in step, enrolment and security agree. */
export const METHOD_LABELS: Record<string, string> = { totp: 'Authenticator app', sms: 'Text message', email: 'Email', backup_code: 'Backup code', webauthn: 'Security key or passkey', push: 'Phone approval' };

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

let countries: Array<{ iso: string; name: string; callingCode: string }> | undefined;
/** Every country the phone parser knows, by English name, with its calling code (worked out at first use). */
function allCountries() {
  if (countries) return countries;
  const { getCountries, getCountryCallingCode } = phoneNumbering();
  countries = getCountries()
    .map((iso) => ({ iso: iso as string, name: regionNames.of(iso) ?? iso, callingCode: getCountryCallingCode(iso) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
  return countries;
}

/** Country select and number field; the number may also start with + and its own country code. */
export function PhoneFields(props: { idPrefix: string; country?: string | undefined; number?: string | undefined }) {
  const id = props.idPrefix;
  return (
    <>
      <label for={`${id}-country`}>Country</label>
      <select id={`${id}-country`} name="country" autocomplete="tel-country-code">
        <option value="" selected={!props.country}>
          Other (type the number with + and the country code)
        </option>
        {allCountries().map((c) => (
          <option key={c.iso} value={c.iso} selected={c.iso === props.country}>
            {c.name} (+{c.callingCode})
          </option>
        ))}
      </select>
      <label for={`${id}-number`}>Mobile number</label>
      <input id={`${id}-number`} name="number" type="tel" inputMode="tel" autocomplete="tel" maxLength={40} required value={props.number ?? ''} aria-describedby={`${id}-number-help`} />
      <p class="hint" id={`${id}-number-help`}>
        A number that can receive text messages.
      </p>
    </>
  );
}

export type CodeChannel = 'sms' | 'email' | 'totp';

export interface EnrolCodeView {
  heading: string;
  channel: CodeChannel;
  /** Masked destination the code went to (text and email). */
  sentTo?: string | undefined;
  /** When the code stops working, in the user's time zone. */
  expiresAt?: string | undefined;
  /** Seconds until another code may be asked for; 0 or absent when it may be now. */
  resendInSeconds?: number | undefined;
  confirmAction: string;
  resendAction?: string | undefined;
  /** Carried through both forms so a refusal can show this page again. */
  hidden: Record<string, string>;
  submitLabel: string;
  cancel: { href: string; label: string };
}

function leadFor(v: EnrolCodeView): string {
  if (v.channel === 'totp') return 'Enter the 6-digit code your authenticator app shows now.';
  const how = v.channel === 'sms' ? 'a text message' : 'an email';
  const until = v.expiresAt ? ` It works until ${v.expiresAt}.` : '';
  return `We sent ${how} with a 6-digit code to ${v.sentTo ?? 'you'}.${until}`;
}

export function codeFieldLabel(channel: string): string {
  if (channel === 'sms') return 'Code from the text message';
  if (channel === 'email') return 'Code from the email';
  if (channel === 'backup_code') return 'Backup code';
  return 'Code from your authenticator app';
}

/**
 * When another code may be asked for, counting down in the page, so the hint and the button never
 * disagree. Unknown (the code went out on an earlier page) says what to do rather than "now".
 */
export function resendHint(seconds: number | undefined): ComponentChildren {
  if (seconds === undefined) return 'If it has not arrived within a minute, ask for a new code.';
  if (seconds <= 0) return 'You can ask for a new code now.';
  return (
    <>
      You can ask for a new code in{' '}
      <span data-countdown={String(seconds)} data-countdown-unit="seconds" data-countdown-done="Nothing arrived? You can ask for a new code now.">
        {seconds} seconds
      </span>
      .
    </>
  );
}

/** Confirms a factor being added with the code sent to it (or, for an authenticator, the code it shows). */
export function EnrolCodePage(props: { chrome: PageChrome; view: EnrolCodeView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const hidden = Object.entries(v.hidden).map(([name, value]) => <input key={name} type="hidden" name={name} value={value} />);
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="enrol-code-title">
        <h1 id="enrol-code-title">{v.heading}</h1>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        <p class="lead" id="enrol-code-help">
          {leadFor(v)}
        </p>
        <form method="post" action={v.confirmAction}>
          <CsrfField token={props.chrome.csrf} />
          {hidden}
          <label for="code">{codeFieldLabel(v.channel)}</label>
          {/* The refusal sits by the field it is about; the page, its code and its destination stay. */}
          {props.error ? (
            <p class="field-error" id="code-error" role="alert">
              {props.error}
            </p>
          ) : null}
          <CodeInput invalid={Boolean(props.error)} describedBy={props.error ? 'code-error enrol-code-help' : 'enrol-code-help'} />
          <button type="submit">{v.submitLabel}</button>
        </form>
        <div class="alt muted">
          {v.resendAction ? (
            <form method="post" action={v.resendAction} class="resend">
              <CsrfField token={props.chrome.csrf} />
              {hidden}
              <p id="resend-help">Nothing arrived? {resendHint(v.resendInSeconds)}</p>
              <button type="submit" class="secondary" aria-describedby="resend-help">
                Send a new code
              </button>
            </form>
          ) : null}
          <p>
            <a href={v.cancel.href}>{v.cancel.label}</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
