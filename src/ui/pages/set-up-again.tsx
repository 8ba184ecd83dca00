import type { PageChrome } from '../layout.js';
import { CsrfField, Layout } from '../layout.js';

/**
 * The first page after an administrator reset the person's methods (a lost phone), when their
 * organisation does not require two-step verification: the reset's promise ("you set up a new
 * method at your next sign-in") is kept, and skipping is possible and said to be.
 */
export function SetUpAgainPage(props: { chrome: PageChrome; resetAt: string; returnTo: string | null }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow" aria-labelledby="set-up-again-title">
        <h1 id="set-up-again-title">Set up two-step verification again</h1>
        <p>An administrator reset your two-step verification on {props.resetAt}: your methods, backup codes and trusted browsers were removed.</p>
        <p>Set up a new method now, so a stolen password alone cannot open your account.</p>
        <p class="muted">Your organisation does not require it, so you can skip this. Until you add a method, your password alone signs you in.</p>
        <div class="actions">
          <a class="button" href="/account/security">
            Set up a method
          </a>
          <form method="post" action="/account/set-up-again/skip">
            <CsrfField token={props.chrome.csrf} />
            {props.returnTo ? <input type="hidden" name="return_to" value={props.returnTo} /> : null}
            <button type="submit" class="secondary">
              Skip for now
            </button>
          </form>
        </div>
      </section>
    </Layout>
  );
}
