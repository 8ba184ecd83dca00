import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';

export interface DeployTargetRow {
  id: string;
  name: string;
  timing: 'automatic' | 'manual';
  requireTwoFactor: boolean;
  pendingChanges: number;
  /** When the current deployment went live, in the viewer's time zone; null when nothing is live. */
  liveSince: string | null;
  liveDigest: string | null;
}

/** The badge row that says how a target goes live. */
export function TargetBadges(props: { timing: 'automatic' | 'manual'; requireTwoFactor: boolean }) {
  return (
    <span class="deploy-badges">
      {props.requireTwoFactor ? <span class="badge ok">2FA to deploy</span> : null}
      <span class="badge">{props.timing === 'automatic' ? 'Automatic' : 'Manual'}</span>
    </span>
  );
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function DeploysPage(props: { chrome: PageChrome; targets: DeployTargetRow[]; canCreate?: boolean | undefined; error?: string | undefined }) {
  return (
    <Layout {...props.chrome}>
      <section class="card deploy-wide" aria-labelledby="deploys-title">
        <h1 id="deploys-title">Deploy targets</h1>
        <p class="lead">What each target serves now, and what is waiting to go out.</p>
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        {props.targets.length === 0 ? (
          <p class="muted">{props.canCreate ? 'There are no deploy targets in your organisation yet.' : 'There are no deploy targets in your organisation yet. An administrator creates them.'}</p>
        ) : (
          <ul class="items targets">
            {props.targets.map((t) => (
              <li key={t.id} data-target-id={t.id}>
                <div class="grow">
                  <a class="name" href={`/deploy/targets/${encodeURIComponent(t.id)}`}>
                    {t.name}
                  </a>{' '}
                  <TargetBadges timing={t.timing} requireTwoFactor={t.requireTwoFactor} />
                  <div class="meta">
                    {t.liveSince ? (
                      <>
                        Live since {t.liveSince} · <code class="digest">{shortDigest(t.liveDigest ?? '')}</code>
                      </>
                    ) : (
                      'Nothing deployed yet'
                    )}
                  </div>
                </div>
                <div class="item-actions">
                  {t.pendingChanges > 0 ? (
                    <span class="badge warn" data-pending={t.pendingChanges}>
                      {t.pendingChanges === 1 ? '1 change pending' : `${t.pendingChanges} changes pending`}
                    </span>
                  ) : (
                    <span class="muted">Up to date</span>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
        {props.canCreate ? (
          <div class="actions">
            <a class="button" href="/deploy/new">
              New target
            </a>
            <a class="button secondary" href="/deploy/api-keys">
              API keys
            </a>
          </div>
        ) : null}
      </section>
    </Layout>
  );
}
