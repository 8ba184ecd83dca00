import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import type { Stamp } from '../security-nav.js';
import { SecurityNav, When } from '../security-nav.js';

export interface SessionRow {
  id: string;
  current: boolean;
  /** "Chrome on macOS". */
  device: string;
  /** "Desktop", "Mobile", "Tablet", or null when the browser does not say. */
  deviceType: string | null;
  userAgent: string;
  ip: string;
  /** "San Francisco, California, United States", or null when unknown. */
  location: string | null;
  signedInAt: Stamp;
  lastActiveAt: Stamp;
}

export function SessionsPage(props: { chrome: PageChrome; sessions: SessionRow[]; timeZone: string; notice?: string | undefined; error?: string | undefined }) {
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const others = props.sessions.filter((s) => !s.current).length;
  return (
    <Layout {...props.chrome}>
      <SecurityNav current="sessions" />
      <h1 class="page-title">Where you’re signed in</h1>
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      {props.error ? <Alert kind="error">{props.error}</Alert> : null}
      <section class="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Active sessions</h2>
        <p class="muted">
          Times are in {props.timeZone}; hover over one for the exact UTC time. If you don’t recognise a session, sign it out and change your password.
        </p>
        <ul class="items sessions">
          {props.sessions.map((s) => (
            <li key={s.id} data-session-id={s.id} data-current={s.current ? 'true' : undefined}>
              <div class="grow">
                <div class="name" title={s.userAgent}>
                  {s.device}
                  {s.current ? <> <span class="badge ok">This session</span></> : null}
                </div>
                <div class="meta">
                  {s.deviceType ? `${s.deviceType} · ` : ''}
                  <span data-ip>{s.ip}</span> · <span data-location>{s.location ?? 'Location unknown'}</span>
                </div>
                <div class="meta">
                  Signed in <When at={s.signedInAt} /> · last active <When at={s.lastActiveAt} />
                </div>
              </div>
              {s.current ? null : (
                <form method="post" action={`/account/security/sessions/${s.id}/revoke`} class="inline">
                  {csrf}
                  <button type="submit" class="link" aria-label={`Sign out ${s.device} (${s.ip})`}>
                    Sign out
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
        {others > 0 ? (
          <form method="post" action="/account/security/sessions/sign-out-others" class="single">
            {csrf}
            <button type="submit" class="secondary">
              Sign out all other sessions
            </button>
          </form>
        ) : (
          <p class="muted">You are signed in only here.</p>
        )}
      </section>
    </Layout>
  );
}
