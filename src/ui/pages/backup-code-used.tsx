import type { PageChrome } from '../layout.js';
import { Alert, Layout } from '../layout.js';

/**
 * Shown right after signing in with a backup code: how many are left, and at three or fewer a
 * push to make a new set now, while the person is signed in and thinking of it.
 */
export function BackupCodeUsedPage(props: { chrome: PageChrome; remaining: number; low: boolean; continueHref: string }) {
  const n = props.remaining;
  const left = n === 0 ? 'That was your last backup code.' : n === 1 ? 'You have 1 backup code left.' : `You have ${n} backup codes left.`;
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="backup-used-title">
        <h1 id="backup-used-title">You signed in with a backup code</h1>
        <p data-testid="backup-codes-left">{left} Each code works once.</p>
        {props.low ? (
          <Alert kind="warn">
            {n === 0 ? 'Make a new set now, or you may be locked out the next time you cannot get a code.' : 'You are running out. Make a new set now and keep it somewhere safe; the codes you have left stop working.'}
          </Alert>
        ) : null}
        <div class="actions">
          {props.low ? (
            <>
              <a class="button" href="/account/security/backup-codes/new">
                Make new backup codes
              </a>
              <a class="button secondary" href={props.continueHref}>
                Not now
              </a>
            </>
          ) : (
            <a class="button" href={props.continueHref}>
              Continue
            </a>
          )}
        </div>
      </section>
    </Layout>
  );
}
