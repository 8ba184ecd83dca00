import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { BackupCodesPage } from './backup-codes.js';

/** What each scope lets an app learn, in the words a person reads on the consent page. */
export const SCOPE_LABELS: Record<string, string> = {
  openid: 'Know who you are when you sign in (an identifier, and how you signed in)',
  email: 'Your email address',
  profile: 'Your name and time zone',
  offline_access: 'Stay connected after you close the app (until you sign out of it)',
};

/** Backup codes from a forced enrolment, then on to where the sign-in was going (an app). */
export function BackupCodesContinuePage(props: { chrome: PageChrome; codes: string[]; intro: string; continueHref: string; continueLabel?: string | undefined }) {
  return <BackupCodesPage chrome={props.chrome} codes={props.codes} intro={props.intro} next={{ href: props.continueHref, label: props.continueLabel ?? 'Continue' }} />;
}

/**
 * The last page before the app: the browser follows the `Refresh` header (or the link). A form
 * post that redirected straight to the app would be stopped by `form-action 'self'` in Chrome,
 * which checks every redirect after a form submission; a fresh navigation from here is not one.
 */
export function ContinuePage(props: { chrome: PageChrome; appName: string; href: string }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="continue-title">
        <h1 id="continue-title">Signing you in</h1>
        <p class="lead">Taking you back to {props.appName}…</p>
        <a class="button" href={props.href} data-testid="continue">
          Continue to {props.appName}
        </a>
      </section>
    </Layout>
  );
}

export interface ConsentView {
  appName: string;
  account: string;
  scopes: Array<{ scope: string; label: string }>;
  action: string;
}

/** The first time an app asks (or it asks for more): what it will learn, allow or refuse. */
export function ConsentPage(props: { chrome: PageChrome; view: ConsentView }) {
  const v = props.view;
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="consent-title">
        <h1 id="consent-title">Sign in to {v.appName}</h1>
        <p class="lead">
          {v.appName} asks to use your {props.chrome.companyName} account <strong>{v.account}</strong>. It will be able to:
        </p>
        <ul class="scopes" data-testid="consent-scopes">
          {v.scopes.map((s) => (
            <li key={s.scope} data-scope={s.scope}>
              {s.label}
            </li>
          ))}
        </ul>
        <form method="post" action={v.action}>
          <CsrfField token={props.chrome.csrf} />
          <div class="actions">
            <button type="submit" name="decision" value="allow">
              Allow
            </button>
            <button type="submit" name="decision" value="deny" class="secondary">
              Cancel
            </button>
          </div>
        </form>
      </section>
    </Layout>
  );
}

/** An app requires two-step verification and the person has no factor yet. */
export function OidcEnrolPage(props: { chrome: PageChrome; appName: string; action: string; cancelAction: string; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="oidc-enrol-title">
        <h1 id="oidc-enrol-title">Set up two-step verification</h1>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <p class="lead">{props.appName} requires a second step at sign-in. Add an authenticator app to continue; you will be asked for its code when you sign in from now on.</p>
        <p class="muted">Google Authenticator, Authy, 1Password or any other app that shows 6-digit codes.</p>
        <form method="post" action={props.action}>
          <CsrfField token={props.chrome.csrf} />
          <button type="submit">Use an authenticator app</button>
        </form>
        <CancelToApp action={props.cancelAction} csrf={props.chrome.csrf} appName={props.appName} />
      </section>
    </Layout>
  );
}

/** The app asked for the phishing-resistant level: this sign-in used no key, so the person signs in again with one. */
export function OidcKeyRequiredPage(props: { chrome: PageChrome; appName: string; action: string; cancelAction: string }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="oidc-key-title">
        <h1 id="oidc-key-title">Use a security key or passkey</h1>
        <p class="lead">{props.appName} asks for a sign-in with a security key or passkey, which a look-alike site cannot reuse. This sign-in used a code or a password only.</p>
        <form method="post" action={props.action}>
          <CsrfField token={props.chrome.csrf} />
          <button type="submit">Sign in again with a key</button>
        </form>
        <CancelToApp action={props.cancelAction} csrf={props.chrome.csrf} appName={props.appName} />
      </section>
    </Layout>
  );
}

/** RP-initiated logout: the app asked to sign the person out. */
export function LogoutPage(props: { chrome: PageChrome; appName: string | null; action: string; xsrf: string }) {
  const from = props.appName ? `${props.appName} asks to sign you out.` : 'An app asks to sign you out.';
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="logout-title">
        <h1 id="logout-title">Sign out</h1>
        <p class="lead">
          {from} Signing out ends your {props.chrome.companyName} session on this browser too, and every app you signed in to with it will ask you to sign in again.
        </p>
        <form method="post" action={props.action}>
          <input type="hidden" name="xsrf" value={props.xsrf} />
          <div class="actions">
            <button type="submit" name="logout" value="yes">
              Sign out
            </button>
            <button type="submit" class="secondary">
              {props.appName ? `Only sign out of ${props.appName}` : 'Only sign out of the app'}
            </button>
          </div>
        </form>
      </section>
    </Layout>
  );
}

export function OidcMessagePage(props: { chrome: PageChrome; heading: string; text: string; details?: string | undefined; link?: { href: string; label: string } | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow">
        <h1>{props.heading}</h1>
        <p>{props.text}</p>
        {props.details ? <p class="muted" data-testid="oidc-error">{props.details}</p> : null}
        {props.link ? <a href={props.link.href}>{props.link.label}</a> : null}
      </section>
    </Layout>
  );
}

/** The way back to the app without signing in: the app is told the person cancelled. */
function CancelToApp(props: { action: string; csrf: string; appName: string }) {
  return (
    <form method="post" action={props.action} class="alt">
      <CsrfField token={props.csrf} />
      <button type="submit" class="link">
        Cancel and go back to {props.appName}
      </button>
    </form>
  );
}
