import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { PhoneFields } from './enrol-code.js';

export interface EnrolRequiredView {
  /** The methods the sign-in flow allows, in the order to offer them. */
  methods: string[];
  /** The account address, offered for email codes. */
  accountEmail: string;
  country?: string | undefined;
  number?: string | undefined;
  email?: string | undefined;
}

/** Policy sent this sign-in to enrol: the user picks one allowed method before getting a session. */
export function EnrolRequiredPage(props: { chrome: PageChrome; view: EnrolRequiredView; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="enrol-required-title">
        <h1 id="enrol-required-title">Set up two-step verification</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {v.methods.length === 0 ? (
          <Alert kind="warn">Your organisation requires two-step verification, but none of the methods it allows can be used right now. Ask your administrator for help.</Alert>
        ) : v.methods.length === 1 && v.methods[0] === 'webauthn' ? (
          <p class="lead">Your organisation requires a security key or passkey at sign-in: codes are not enough. Add one now; you are signed in once it works.</p>
        ) : (
          <p class="lead">Your organisation requires a second step at sign-in. Choose how you want to get your codes; you are signed in once it works.</p>
        )}
        {v.methods.includes('webauthn') ? (
          <div class="choice" aria-labelledby="enrol-webauthn-title">
            <h2 id="enrol-webauthn-title">Security key or passkey</h2>
            <p class="muted">A USB or NFC key, this device's fingerprint, face or PIN, or a passkey on your phone.</p>
            <form method="get" action="/sign-in/enrol/webauthn">
              <button type="submit">Add a security key or passkey</button>
            </form>
          </div>
        ) : null}
        {v.methods.includes('totp') ? (
          <div class="choice" aria-labelledby="enrol-totp-title">
            <h2 id="enrol-totp-title">Authenticator app</h2>
            <p class="muted">Google Authenticator, Authy, 1Password or any other app that shows 6-digit codes.</p>
            <form method="post" action="/sign-in/enrol/totp">
              {csrf}
              <button type="submit">Use an authenticator app</button>
            </form>
          </div>
        ) : null}
        {v.methods.includes('sms') ? (
          <div class="choice" aria-labelledby="enrol-sms-title">
            <h2 id="enrol-sms-title">Text message</h2>
            <form method="post" action="/sign-in/enrol/sms">
              {csrf}
              <PhoneFields idPrefix="enrol-phone" country={v.country} number={v.number} />
              <button type="submit">Text me a code</button>
            </form>
          </div>
        ) : null}
        {v.methods.includes('email') ? (
          <div class="choice" aria-labelledby="enrol-email-title">
            <h2 id="enrol-email-title">Email</h2>
            <form method="post" action="/sign-in/enrol/email">
              {csrf}
              <label for="enrol-email">Email address for codes</label>
              <input id="enrol-email" name="email" type="email" autocomplete="email" maxLength={254} required value={v.email ?? v.accountEmail} />
              <button type="submit">Email me a code</button>
            </form>
          </div>
        ) : null}
        <div class="alt muted">
          <p>
            <a href="/sign-in">Start over</a>
          </p>
        </div>
      </section>
    </Layout>
  );
}
