// A minimal app that signs people in through Twofold with OpenID Connect (code flow + PKCE)
// and shows the ID token's claims. Run from the repository root:
//
//   ISSUER=http://127.0.0.1:8080 CLIENT_ID=tfc_... CLIENT_SECRET=tfs_... PORT=3000 node examples/oidc-client/app.mjs
//
// Register it first with: npx twofold clients create --name "Example" \
//   --redirect-uri http://localhost:3000/callback --post-logout-redirect-uri http://localhost:3000/
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const { ISSUER, CLIENT_ID, CLIENT_SECRET } = process.env;
const PORT = Number(process.env.PORT ?? 3000);
const BASE = process.env.APP_URL ?? `http://localhost:${PORT}`;
const TWO_FACTOR = 'urn:twofold:acr:2fa';
if (!ISSUER || !CLIENT_ID) throw new Error('set ISSUER and CLIENT_ID (and CLIENT_SECRET for a confidential client)');

const issuer = new URL(ISSUER);
const plainHttp = issuer.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
const config = await oidc.discovery(issuer, CLIENT_ID, undefined, CLIENT_SECRET ? oidc.ClientSecretBasic(CLIENT_SECRET) : oidc.None(), plainHttp ? { execute: [oidc.allowInsecureRequests] } : undefined);

/** Sessions in memory, keyed by a random cookie: enough for an example. */
const sessions = new Map();
const html = (res, body, status = 200) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><meta charset="utf-8"><title>Example app</title>${body}`);
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer(async (req, res) => {
  const url = new URL(req.url, BASE);
  let sid = /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (!sid || !sessions.has(sid)) {
    sid = randomBytes(16).toString('base64url');
    sessions.set(sid, {});
    res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
  }
  const session = sessions.get(sid);
  try {
    if (url.pathname === '/login') {
      // ?step_up=1 asks for the two-factor level; ?max_age=0 for a fresh sign-in.
      const verifier = oidc.randomPKCECodeVerifier();
      session.pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce(), maxAge: url.searchParams.get('max_age') ?? undefined };
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${BASE}/callback`,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: session.pending.state,
        nonce: session.pending.nonce,
        ...(url.searchParams.has('step_up') ? { acr_values: TWO_FACTOR } : {}),
        ...(session.pending.maxAge !== undefined ? { max_age: session.pending.maxAge } : {}),
      });
      return res.writeHead(302, { location: target.href }).end();
    }
    if (url.pathname === '/callback') {
      const pending = session.pending;
      delete session.pending;
      if (!pending) return html(res, '<p>No sign-in in progress. <a href="/">Start again</a></p>', 400);
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        ...(pending.maxAge !== undefined ? { maxAge: Number(pending.maxAge) } : {}),
      });
      session.idToken = tokens.id_token;
      session.claims = tokens.claims();
      return res.writeHead(303, { location: '/' }).end();
    }
    if (url.pathname === '/logout' && session.idToken) {
      const target = oidc.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${BASE}/` });
      sessions.delete(sid);
      return res.writeHead(302, { location: target.href }).end();
    }
    if (session.claims) {
      const c = session.claims;
      const level = c.acr === TWO_FACTOR ? 'with a second factor' : 'with a password only';
      return html(
        res,
        `<h1>Signed in as ${escape(c.email ?? c.sub)}</h1><p data-testid="level">Signed in ${level} (amr: ${escape((c.amr ?? []).join(', '))}).</p>` +
          `<pre data-testid="claims">${escape(JSON.stringify(c, null, 2))}</pre>` +
          '<p><a href="/login?step_up=1">Step up to two factors</a> · <a href="/login?max_age=0">Sign in again</a> · <a href="/logout">Sign out</a></p>',
      );
    }
    return html(res, '<h1>Example app</h1><p><a href="/login">Sign in with Twofold</a></p>');
  } catch (error) {
    return html(res, `<h1>Sign-in failed</h1><pre data-testid="error">${escape(error instanceof Error ? `${error.name}: ${error.message}` : error)}</pre><p><a href="/">Start again</a></p>`, 500);
  }
}).listen(PORT, () => console.log(`example app on ${BASE} (issuer ${issuer.href})`));
