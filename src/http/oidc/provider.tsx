import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { RequestMeta, Services } from '../../services/index.js';
import type { OidcStorageFactory } from '../../services/oidc-storage.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { ACR, OIDC_SCOPES, loginClaims } from '../../core/oidc.js';
import type { PageChrome } from '../../ui/layout.js';
import { renderDocument } from '../../ui/layout.js';
import { LogoutPage, OidcMessagePage } from '../../ui/pages/oidc.js';
import { COOKIE } from '../request-context.js';

/** What the Fastify side knows about a request it hands to the provider. */
export interface OidcRequestContext {
  auth: AuthenticatedSession | null;
  meta: RequestMeta;
  chrome(title: string): PageChrome;
}

/** Keyed by the raw request, which is all the provider (a Koa app) sees of Fastify's request. */
export const requestContexts = new WeakMap<IncomingMessage, OidcRequestContext>();

export const OIDC_PATHS = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  userinfo: '/oidc/userinfo',
  jwks: '/oidc/jwks',
  endSession: '/oidc/session/end',
  revocation: '/oidc/token/revocation',
  interaction: '/oidc/interaction',
} as const;

export interface BuiltProvider {
  provider: Provider;
  storage: OidcStorageFactory;
  /** The signing keys it was built with, to notice a rotation. */
  keyIds: string[];
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface ProviderOptions {
  publicUrl: string;
  /** Log a provider-side failure (the provider answers the client itself). */
  onError(error: unknown): void;
}

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

/**
 * Builds the oidc-provider instance: storage in our database, our signing keys, cookies signed
 * with a key derived from the server secret (so every node reads every node's cookies), and an
 * interaction policy that keeps the provider's login in step with the Twofold session.
 *
 * The package is loaded on first use: importing it prints a runtime notice on Node 20 (it is
 * tested on Node 22), which must not reach the output of CLI commands that never serve.
 */
export async function buildProvider(services: Services, options: ProviderOptions): Promise<BuiltProvider> {
  const { default: ProviderClass, errors, interactionPolicy } = await import('oidc-provider');
  const storage = services.oidcSetup.storage((model) =>
    new errors.InvalidGrant(`${model === 'AuthorizationCode' ? 'authorization code' : 'refresh token'} already used`),
  );
  const keys = await services.signingKeys.privateJwks();
  const secure = new URL(options.publicUrl).protocol === 'https:';
  const contextOf = (ctx: KoaContextWithOIDC) => requestContexts.get(ctx.req);
  const fallbackChrome = (title: string): PageChrome => ({ companyName: services.settings.companyName, title, csrf: '', assets: { css: '', js: '' } });
  const chromeOf = (ctx: KoaContextWithOIDC, title: string) => contextOf(ctx)?.chrome(title) ?? fallbackChrome(title);
  const now = () => services.clock();

  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  // max_age on the server clock, against the Twofold session (the provider's own check reads the wall clock).
  login.checks.add(
    new interactionPolicy.Check('twofold_max_age', 'End-User authentication is older than max_age', 'login_required', (ctx) => {
      const maxAge = ctx.oidc.params?.max_age;
      if (maxAge === undefined || ctx.oidc.result?.login) return false;
      const auth = contextOf(ctx)?.auth;
      // max_age=0 asks for a new authentication whatever the clock says.
      return !auth || Number(maxAge) === 0 || now() - auth.session.authenticated_at > Number(maxAge) * 1000;
    }),
  );
  // The provider session speaks for someone this client may not sign in (findAccount found no
  // account for them: outside the client's organisation tree, or no longer active). Without this
  // the provider would go on to consent with no account; instead our interaction page refuses
  // them with access_denied (or the app gets login_required for prompt=none).
  login.checks.add(
    new interactionPolicy.Check('twofold_account', 'this app does not sign in this End-User', 'login_required', (ctx) => {
      return !!ctx.oidc.session?.accountId && !ctx.oidc.account && !ctx.oidc.result?.login;
    }),
  );
  // Step-up: the 2FA acr was asked for, or the client requires it, and this login lacks it.
  login.checks.add(
    new interactionPolicy.Check('twofold_second_factor', 'a second factor is required', 'login_required', async (ctx) => {
      const asked = String(ctx.oidc.params?.acr_values ?? '').split(' ');
      const acr = ctx.oidc.session?.acr;
      // The phishing-resistant level is met only by a login that recorded it (a key among the proofs).
      if (asked.includes(ACR.phishingResistant)) return acr !== ACR.phishingResistant;
      if (acr === ACR.twoFactor || acr === ACR.phishingResistant) return false;
      if (asked.includes(ACR.twoFactor)) return true;
      const client = await services.oidcClients.find(ctx.oidc.client?.clientId ?? '');
      return client?.requireTwoFactor === true;
    }),
  );

  const configuration: Configuration = {
    adapter: (name: string) => storage.forModel(name) as never,
    jwks: { keys: keys as never },
    acrValues: [ACR.password, ACR.twoFactor, ACR.phishingResistant],
    scopes: [...OIDC_SCOPES],
    // How the person signed in (acr, amr, auth_time) is in every ID token, asked for or not: it
    // is what apps come to Twofold for. The provider's default releases them only on request.
    // org_id, the person's organisation, too: an app shared by several tenants tells them apart by it.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'org_id'],
      email: ['email', 'email_verified'],
      profile: ['name', 'zoneinfo'],
      sid: null,
      iss: null,
    },
    // Apps read email and name straight from the ID token, without a userinfo call.
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'none'],
    clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], id_token_signed_response_alg: 'ES256', response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'], userinfoSigningAlgValues: ['ES256'], introspectionSigningAlgValues: ['ES256'], authorizationSigningAlgValues: ['ES256'] },
    cookies: {
      names: { session: 'twofold_oidc', interaction: 'twofold_oidc_interaction', resume: 'twofold_oidc_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure },
      short: { httpOnly: true, sameSite: 'lax', secure },
      keys: services.oidcSetup.cookieKeys(),
    },
    routes: {
      authorization: OIDC_PATHS.authorization,
      token: OIDC_PATHS.token,
      userinfo: OIDC_PATHS.userinfo,
      jwks: OIDC_PATHS.jwks,
      end_session: OIDC_PATHS.endSession,
      revocation: OIDC_PATHS.revocation,
      introspection: '/oidc/token/introspection',
      registration: '/oidc/reg',
      pushed_authorization_request: '/oidc/request',
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      backchannel_authentication: '/oidc/backchannel',
      challenge: '/oidc/challenge',
      credential: '/oidc/credential',
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      userinfo: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx) => {
          const xsrf = String((ctx.oidc.session?.state as { secret?: unknown } | undefined)?.secret ?? '');
          const page = <LogoutPage chrome={chromeOf(ctx, 'Sign out')} appName={ctx.oidc.client?.clientName ?? null} action={ctx.oidc.urlFor('end_session_confirm')} xsrf={xsrf} />;
          ctx.type = 'html';
          ctx.body = renderDocument(page);
        },
        postLogoutSuccessSource: (ctx) => {
          const page = <OidcMessagePage chrome={chromeOf(ctx, 'Signed out')} heading="You are signed out" text="You can close this window." link={{ href: '/sign-in', label: 'Sign in again' }} />;
          ctx.type = 'html';
          ctx.body = renderDocument(page);
        },
      },
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `${OIDC_PATHS.interaction}/${interaction.uid}`,
    },
    // Called for the authorization, the token endpoint and userinfo, always with the client known:
    // someone the client may not sign in (outside its organisation tree) is no account to it, so
    // no code, token, refresh or userinfo answer is ever issued for them.
    findAccount: async (ctx, sub) => {
      const claims = await services.oidcSignIn.claims(sub, new Set(OIDC_SCOPES), ctx.oidc.client?.clientId ?? '');
      if (!claims) return undefined;
      // The provider keeps only the claims of the granted scopes.
      return { accountId: sub, claims: () => ({ ...claims }) };
    },
    // Every code flow gets a refresh token; without offline_access it ends with the sign-in session.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    ttl: {
      AccessToken: () => 60 * MINUTE,
      AuthorizationCode: () => MINUTE,
      IdToken: () => 60 * MINUTE,
      RefreshToken: () => 14 * DAY,
      Interaction: () => Math.max(15 * MINUTE, Math.ceil(services.settings.signInFlowMs / 1000) + 5 * MINUTE),
      Session: () => Math.ceil(services.settings.sessionMaxMs / 1000),
      Grant: () => 14 * DAY,
    },
    renderError: (ctx, out) => {
      const details = [out.error, out.error_description].filter(Boolean).join(': ');
      const page = <OidcMessagePage chrome={chromeOf(ctx, 'Sign-in stopped')} heading="Sign-in could not continue" text="The app sent a request Twofold cannot carry out. Go back to the app and try again." details={details} />;
      ctx.type = 'html';
      ctx.body = renderDocument(page);
    },
  };

  const provider = new ProviderClass(options.publicUrl, configuration);
  // The mount rewrites X-Forwarded-Proto to the public URL's scheme, so the provider's idea of
  // "secure" matches the issuer whatever sits in front.
  provider.proxy = true;
  provider.on('server_error', (_ctx: unknown, error: unknown) => options.onError(error));

  provider.use(async (ctx, next) => {
    const context = requestContexts.get(ctx.req);
    if (context && ctx.path === OIDC_PATHS.authorization) await followTwofoldSession(provider, ctx, context);
    await next();
    if (context?.auth && ctx.oidc?.route === 'end_session_confirm' && ctx.status === 303 && ctx.oidc.params?.logout) {
      // "Sign out" on the logout page ends the Twofold session as well as the provider's.
      await services.signOut.signOut(context.auth.user, context.auth.session, context.meta);
      ctx.append('Set-Cookie', `${COOKIE.session}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
    }
  });

  const callback = provider.callback();
  return { provider, storage, keyIds: keys.map((k) => String(k.kid)), handle: async (req, res) => callback(req, res) };
}

/**
 * The Twofold session is the source of truth: the provider's own session (its cookie) may only
 * speak for the same person, with what that person's Twofold session proves now. A provider
 * session whose Twofold session ended, or belongs to someone else, is dropped before the
 * authorization request is looked at; one for the same person takes on the current proofs.
 */
async function followTwofoldSession(provider: Provider, ctx: Parameters<Provider['Session']['get']>[0], context: OidcRequestContext): Promise<void> {
  const session = await provider.Session.get(ctx);
  if (!session.accountId) return;
  const auth = context.auth;
  if (!auth || auth.user.id !== session.accountId) {
    await session.destroy();
    return;
  }
  // The phishing-resistant level is given to a request that asks for it, while the session proves a key.
  const query = (ctx as { query?: Record<string, unknown> }).query ?? {};
  const asked = String(query.acr_values ?? '').split(' ');
  const login = loginClaims({ passwordAt: auth.session.password_at, secondFactorAt: auth.session.second_factor_at, authenticatedAt: auth.session.authenticated_at, amr: auth.amr }, asked);
  if (session.loginTs === login.authTime && session.acr === login.acr && JSON.stringify(session.amr ?? []) === JSON.stringify(login.amr)) return;
  session.loginAccount({ accountId: auth.user.id, loginTs: login.authTime, acr: login.acr, amr: login.amr, ...(session.transient ? { transient: true } : {}) });
  await session.persist();
}
