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
            signed in {a.signedInAt} with {a.amr.join(' + ')}
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
