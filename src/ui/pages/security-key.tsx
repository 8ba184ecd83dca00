import type { ComponentChildren } from 'preact';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';

/**
 * A form the static script (ui/static/webauthn.ts) completes: on submit it asks the browser for
 * the security key with `options`, writes the answer as JSON into the hidden `field` and posts.
 * `passkey` is a sign-in without an email: the browser offers the passkeys it holds for this site,
 * on the button and (conditional UI) in the email field's autofill.
 */
export function SecurityKeyForm(props: { kind: 'register' | 'get' | 'passkey'; action: string; csrf: string; options: string; field: string; button: string; buttonClass?: string; children?: ComponentChildren }) {
  return (
    <form method="post" action={props.action} data-webauthn={props.kind} data-webauthn-options={props.options} data-webauthn-field={props.field}>
      <CsrfField token={props.csrf} />
      <input type="hidden" name={props.field} value="" />
      {props.children}
      <p class="hint" data-webauthn-status role="status" aria-live="polite" />
      <button type="submit" class={props.buttonClass}>
        {props.button}
      </button>
    </form>
  );
}

export function AddSecurityKeyPage(props: { chrome: PageChrome; options: string; name: string; error?: string | undefined; action?: string | undefined; cancelHref?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="add-key-title">
        <h1 id="add-key-title">Add a security key or passkey</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead">Use a USB or NFC security key, this device's fingerprint, face or PIN (Touch ID, Windows Hello), or a passkey on your phone.</p>
        <SecurityKeyForm kind="register" action={props.action ?? '/account/security/webauthn/register'} csrf={props.chrome.csrf} options={props.options} field="response" button="Add security key">
          <label for="key-name">Name</label>
          <input id="key-name" name="name" type="text" maxLength={64} value={props.name} required aria-describedby="key-name-help" />
          <p class="hint" id="key-name-help">
            So you can tell your keys apart, e.g. “Blue YubiKey” or “Work laptop”.
          </p>
        </SecurityKeyForm>
        <p class="alt muted">
          <a href={props.cancelHref ?? '/account/security'}>Cancel</a>
        </p>
      </section>
    </Layout>
  );
}
