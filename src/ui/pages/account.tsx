import type { PageChrome } from '../layout.js';
import { Layout } from '../layout.js';

export interface AccountView {
  displayName: string;
  email: string;
  roles: string[];
  timeZone: string;
  signedInAt: string;
  amr: string[];
  sessionCount: number;
}

const METHOD_NAMES: Record<string, string> = { pwd: 'password', otp: 'one-time code', sms: 'text message', hwk: 'security key' };

/** "password + one-time code" rather than RFC 8176 codes; `mfa` only restates the others. */
function describeMethods(amr: string[]): string {
  return amr
    .filter((m) => m !== 'mfa')
    .map((m) => METHOD_NAMES[m] ?? m)
    .join(' + ');
}

export function AccountPage(props: { chrome: PageChrome; account: AccountView }) {
  const a = props.account;
  return (
    <Layout {...props.chrome}>
      <section class="card" aria-labelledby="account-title">
        <h1 id="account-title">Signed in as {a.displayName}</h1>
        <dl class="facts">
          <dt>Email</dt>
          <dd data-testid="account-email">{a.email}</dd>
          <dt>Roles</dt>
          <dd>{a.roles.length > 0 ? a.roles.join(', ') : 'none'}</dd>
          <dt>Time zone</dt>
          <dd>{a.timeZone}</dd>
          <dt>This session</dt>
          <dd>
            Signed in {a.signedInAt} with {describeMethods(a.amr)}
          </dd>
          <dt>Active sessions</dt>
          <dd>{a.sessionCount}</dd>
        </dl>
        <a class="button secondary" href="/account/security">
          Security settings
        </a>
      </section>
    </Layout>
  );
}
