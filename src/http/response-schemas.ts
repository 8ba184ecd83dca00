/**
 * Response schemas of the JSON API: they describe each answer in /api/v1/openapi.json and they
 * serialise it (fast-json-stringify writes only the properties a schema names). Every object is
 * closed (`additionalProperties: false`) with its properties listed, so a field a service adds
 * by mistake (a password hash, a sealed secret, a token hash) can never reach a client: it is
 * dropped, and the test helper's reply check (test/helpers/server.ts) fails the suite that saw it.
 *
 * Errors share one shape, `{error: {code, message, details?}}`; `errorReplies(...codes)` declares
 * a route's error statuses from the codes it can answer with, each status being the code's one
 * status in the catalogue (core/error-catalogue.ts), plus the codes any API route can meet.
 */
import type { ErrorCode, ErrorStatus } from '../core/errors.js';
import { statusOf } from '../core/errors.js';
import { WEBAUTHN_FAILURES } from '../services/second-factor/strategy.js';

type Schema = Record<string, unknown>;

/** A closed object: exactly these properties; all required except those named optional. */
export function object(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties };
}

const nullable = (schema: Schema): Schema => ({ ...schema, type: [schema.type as string, 'null'] });
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const boolean: Schema = { type: 'boolean' };
const timestamp: Schema = { type: 'string', format: 'date-time' };
const nullableString = nullable(string);
const nullableTimestamp = nullable(timestamp);
const strings = arrayOf(string);
const constant = (value: string): Schema => ({ type: 'string', enum: [value] });
/** Free-form JSON written by Twofold itself (audit details): any properties. */
const freeObject: Schema = { type: 'object', additionalProperties: true };

/** 204: no body. */
export const noContent: Schema = { type: 'null', description: 'No content' };
/** 304: the client's copy (If-None-Match) is current. */
export const notModified: Schema = { type: 'null', description: 'Not modified: the ETag matches' };

// ---- Errors ---------------------------------------------------------------------------------

export const errorObject: Schema = object(
  {
    code: { type: 'string', description: 'Stable error code (see the catalogue); branch on this, not on the message.' },
    message: { type: 'string', description: 'For people; may be reworded.' },
    details: { type: 'object', additionalProperties: true, description: 'Extra facts for some codes (e.g. `missing` proofs, the invalid `field`).' },
  },
  ['details'],
);

export const errorReply: Schema = object({ error: errorObject });

/** Codes any API route can answer with: a malformed request, another site's write, the database away, a bug. */
export const COMMON_ERROR_CODES: readonly ErrorCode[] = ['invalid_request', 'invalid_json', 'csrf_failed', 'body_too_large', 'unsupported_media_type', 'internal_error', 'database_unavailable', 'server_busy'];

/** What signed-in routes add: no session. */
export const SIGNED_IN: readonly ErrorCode[] = ['not_signed_in'];
/** Admin routes: signed in, an admin, with a fresh re-authentication (sudo). */
export const ADMIN_SUDO: readonly ErrorCode[] = ['not_signed_in', 'not_admin', 'reauthentication_required'];

/**
 * The error responses of a route: one entry per status its codes have (the catalogue's), each
 * the shared error schema, its description and `x-error-codes` listing the codes.
 */
export function errorReplies(...codes: ReadonlyArray<ErrorCode | readonly ErrorCode[]>): { [S in ErrorStatus]?: Schema } {
  const all = [...new Set([...codes.flat(), ...COMMON_ERROR_CODES])] as ErrorCode[];
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of all) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: { [S in ErrorStatus]?: Schema } = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const list = byStatus.get(status)!;
    out[status] = { ...errorReply, description: `Error codes: ${list.map((c) => `\`${c}\``).join(', ')}.`, 'x-error-codes': list };
  }
  return out;
}

// ---- Accounts, sessions, sign-in --------------------------------------------------------------

export const userProfile = object({
  id: string,
  orgId: string,
  email: string,
  displayName: string,
  timeZone: string,
  status: string,
  roles: strings,
  createdAt: timestamp,
});

/** A session as GET /api/v1/session shows it. */
export const sessionSummary = object({
  id: string,
  current: boolean,
  createdAt: timestamp,
  lastSeenAt: timestamp,
  expiresAt: timestamp,
  authenticatedAt: timestamp,
  ip: string,
  userAgent: string,
  amr: strings,
});

export const sessionReply = object({ user: userProfile, session: sessionSummary });

/** What became of the emailed copy of new backup codes (organisation setting emailBackupCodes). */
const backupCodesEmail = object(
  { status: { type: 'string', enum: ['off', 'sent', 'unverified', 'failed'], description: 'off: the organisation does not email codes; sent: a copy went to `to`; unverified: `to` is not a verified address, nothing sent; failed: the send failed (the codes still hold)' }, to: string },
  ['to'],
);
/** A completed sign-in (password, second factor or forced enrolment); enrolment adds the backup codes, once, and what became of their emailed copy. */
export const signedInReply = object({ status: constant('signed_in'), user: userProfile, amr: strings, backupCodes: strings, backupCodesEmail, setUpAgain: { type: 'boolean', description: 'An administrator reset your methods: you are asked to set one up again (GET /api/v1/methods, then POST /api/v1/factors/...)' } }, ['backupCodes', 'backupCodesEmail', 'setUpAgain']);

const sendTarget = object({ id: string, type: string, destination: string, title: string }, ['title']);
const unavailableMethod = object({ method: string, reason: string });

export const secondFactorRequiredReply = object({
  status: constant('second_factor_required'),
  challenge: string,
  methods: strings,
  expiresAt: timestamp,
  sendTargets: arrayOf(sendTarget),
  unavailable: arrayOf(unavailableMethod),
  trustBrowserDays: integer,
  /** Until when wrong codes have locked the person's codes (a backup code still works), or null. */
  codesLockedUntil: nullableTimestamp,
  /** The phones paired for approvals, when `push` is offered. */
  approvers: arrayOf(object({ id: string, name: string })),
  codeSent: { ...object({ method: string, factorId: string, channel: string, title: string, sentTo: string, expiresAt: timestamp, resendAt: timestamp }), description: 'With sendCode: the step opens on a text or email method and its code was sent by itself, as the sign-in page does (absent when nothing was sent; ask with POST /api/v1/auth/second-factor/send)' },
}, ['codeSent']);

export const enrolmentRequiredReply = object({ status: constant('enrolment_required'), challenge: string, methods: strings, expiresAt: timestamp });

export const signInReply: Schema = {
  description: 'Signed in, or the next step: a second factor, or enrolment when policy demands a factor the user lacks',
  anyOf: [signedInReply, secondFactorRequiredReply, enrolmentRequiredReply],
};

export const reauthenticatedReply = object({ status: constant('ok'), validUntil: timestamp });

/** The step-up flow as it stands: what is missing for admin areas and the code methods usable now. */
export const stepUpReply = object({
  state: string,
  missing: strings,
  askPassword: boolean,
  askCode: boolean,
  methods: arrayOf(object({ method: string, destination: nullableString, sendable: boolean })),
  approvers: arrayOf(object({ id: string, name: string })),
  expiresAt: timestamp,
});

export const statusMessageReply = (status: string) => object({ status: constant(status), message: string });

// ---- Factors and codes ----------------------------------------------------------------------

export const factor = object({ id: string, type: string, label: string, status: string, createdAt: timestamp, confirmedAt: nullableTimestamp, lastUsedAt: nullableTimestamp, destination: string, default: { ...boolean, description: 'In your list: whether the second step opens on this method (you chose it as your default)' } }, ['destination', 'default']);

export const backupCodeStatus = object({ remaining: integer, total: integer, low: boolean });

export const factorsReply = object({ factors: arrayOf(factor), backupCodes: backupCodeStatus });
export const renamedFactorReply = object({ factor });

/** An authenticator being enrolled: the secret is shown now, for the app, and never again. */
export const totpEnrolment = object({ id: string, label: string, secret: string, secretGroups: string, uri: string, qrSvg: string, expiresAt: timestamp });

/** A factor switched on; the first one returns backup codes, once. */
/** A credential named in WebAuthn options (to use, or to exclude): base64url id. */
const credentialDescriptor = object({ id: string, type: constant('public-key'), transports: strings }, ['transports']);
/** What the browser passes to navigator.credentials.create(), in WebAuthn's JSON form (binary values base64url). */
export const webAuthnCreationOptions = object(
  {
    challenge: string,
    rp: object({ name: string, id: string }, ['id']),
    user: object({ id: string, name: string, displayName: string }),
    pubKeyCredParams: arrayOf(object({ alg: integer, type: constant('public-key') })),
    timeout: integer,
    attestation: string,
    excludeCredentials: arrayOf(credentialDescriptor),
    authenticatorSelection: object({ residentKey: string, userVerification: string, requireResidentKey: boolean, authenticatorAttachment: string }, ['residentKey', 'userVerification', 'requireResidentKey', 'authenticatorAttachment']),
    extensions: object({ credProps: boolean }, ['credProps']),
    hints: strings,
  },
  ['timeout', 'attestation', 'excludeCredentials', 'authenticatorSelection', 'extensions', 'hints'],
);
/** What the browser passes to navigator.credentials.get(), in WebAuthn's JSON form. */
export const webAuthnRequestOptions = object(
  { challenge: string, rpId: string, timeout: integer, allowCredentials: arrayOf(credentialDescriptor), userVerification: string, hints: strings },
  ['rpId', 'timeout', 'allowCredentials', 'userVerification', 'hints'],
);
export const webAuthnCreationReply = object({ options: webAuthnCreationOptions });
export const webAuthnRequestReply = object({ options: webAuthnRequestOptions });
/** A deploy's security-key options and the nonce its challenge was derived from (SHA-256(nonce || target id || digest)). */
export const deployWebAuthnOptionsReply = object({ options: webAuthnRequestOptions, nonce: string });
/** Passkey sign-in: the options (allowCredentials empty) and the handle the assertion is sent back with. */
export const passkeyOptionsReply = object({ handle: { type: 'string', description: 'Send back with the assertion to /api/v1/auth/passkey: the challenge is bound to it' }, options: webAuthnRequestOptions });

export const enrolmentResult = object({ factor, backupCodes: strings, backupCodesEmail, turnedOn: boolean, replaced: boolean }, ['backupCodes', 'backupCodesEmail', 'replaced']);

export const backupCodesReply = object({ codes: strings });

export const regeneratedBackupCodes = object({ codes: strings, email: backupCodesEmail });

export const organisationSettingsReply = object({ orgId: string, emailBackupCodes: { ...boolean, description: 'New backup codes are also emailed to the person\'s verified address' } });

export const sentCode = object({ channel: string, title: { ...string, description: "The channel's title, as the organisation named it" }, sentTo: string, expiresAt: timestamp, resendAt: timestamp });

export const deliveredEnrolment = object({
  id: string,
  type: string,
  label: string,
  replaces: nullableString,
  enrolmentExpiresAt: timestamp,
  channel: string,
  title: string,
  sentTo: string,
  expiresAt: timestamp,
  resendAt: timestamp,
});

export const methodsReply = object({ methods: arrayOf(object({ method: string, available: boolean, reason: string, title: string }, ['reason', 'title'])) });

export const trustedBrowsersReply = object({
  trustedBrowsers: arrayOf(object({ id: string, userAgent: string, ip: string, createdAt: timestamp, expiresAt: timestamp, lastUsedAt: nullableTimestamp })),
});

// ---- Security centre ------------------------------------------------------------------------

const deviceDescription = object({ type: nullableString, browser: nullableString, os: nullableString, label: string });
const place = object({ city: nullableString, region: nullableString, country: string, label: string });

export const securitySessionView = object({
  id: string,
  current: boolean,
  device: deviceDescription,
  ip: string,
  location: { ...place, type: ['object', 'null'] },
  deviceId: nullableString,
  locationId: nullableString,
  userAgent: string,
  createdAt: timestamp,
  lastSeenAt: timestamp,
  expiresAt: timestamp,
  authenticatedAt: timestamp,
  amr: strings,
});

export const deviceView = object({
  id: string,
  label: string,
  type: nullableString,
  browser: nullableString,
  os: nullableString,
  userAgent: string,
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  lastIp: string,
  signInCount: integer,
  blocked: boolean,
  blockedAt: nullableTimestamp,
  current: boolean,
});

export const locationView = object({
  id: string,
  key: string,
  label: string,
  country: string,
  region: nullableString,
  lastCity: nullableString,
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  lastIp: string,
  signInCount: integer,
  blocked: boolean,
  blockedAt: nullableTimestamp,
  current: boolean,
});

export const sessionsReply = object({ sessions: arrayOf(securitySessionView) });
export const endedSessionsReply = object({ endedSessions: integer });
export const devicesReply = object({ devices: arrayOf(deviceView) });
export const deviceReply = object({ device: deviceView });
export const deviceBlockedReply = object({ device: deviceView, endedSessions: integer });
export const locationsReply = object({ locations: arrayOf(locationView) });
export const locationReply = object({ location: locationView });
export const locationBlockedReply = object({ location: locationView, endedSessions: integer });
export const timeZoneReply = object({ timeZone: string });

export const notificationPreferences = object({ newDevice: boolean, newLocation: boolean, blockedAttempts: boolean });

export const activityReply = object({
  timeZone: string,
  events: arrayOf(
    object({
      id: integer,
      type: string,
      category: string,
      summary: string,
      occurredAt: timestamp,
      occurredAtLocal: string,
      ip: nullableString,
      device: nullableString,
      userAgent: nullableString,
      details: freeObject,
    }),
  ),
  nextCursor: nullableString,
});

/** The activity log as a CSV file (one row per event, times in the user's zone). */
export const activityCsv: Schema = { description: 'CSV, one row per event', content: { 'text/csv': { schema: { type: 'string' } } } };

export const auditReply = object({
  events: arrayOf(
    object({
      id: integer,
      occurredAt: timestamp,
      type: string,
      actorUserId: nullableString,
      subjectUserId: nullableString,
      orgId: nullableString,
      ip: nullableString,
      userAgent: nullableString,
      details: freeObject,
    }),
  ),
  nextCursor: nullableString,
});

// ---- Admin: users, policy, providers, clients, API keys ---------------------------------------

const userTwoFactorFields = {
  id: string,
  orgId: string,
  email: string,
  displayName: string,
  status: string,
  methods: strings,
  lastUsedAt: nullableTimestamp,
  backupCodesLeft: integer,
  mustEnrol: boolean,
};

export const userTwoFactorStatus = object(userTwoFactorFields);

export const userListReply = object({ users: arrayOf(userTwoFactorStatus), next: nullableString });

const namedRef = object({ id: string, name: string });

export const userDetailReply = object({
  ...userTwoFactorFields,
  factors: arrayOf(object({ id: string, type: string, label: string, destination: nullableString, lastUsedAt: nullableTimestamp })),
  roles: arrayOf(namedRef),
  groups: arrayOf(namedRef),
});

export const invitationReply = object({ userId: string, email: string, expiresAt: timestamp, emailed: boolean });

export const removedFactorReply = object({ removed: object({ id: string, type: string, label: string }), remainingFactors: integer });

const personRef = object({ id: string, email: string, displayName: string });

export const rolesOverviewReply = object({
  organisation: namedRef,
  roles: arrayOf(object({ id: string, name: string, requireTwoFactor: boolean, requirePhishingResistant: boolean, holders: integer, protected: boolean })),
  groups: arrayOf(object({ id: string, name: string, roles: arrayOf(namedRef), members: arrayOf(personRef) })),
  people: arrayOf(personRef),
});

/** A role or a group as created or renamed. */
export const roleOrGroupReply = object({ id: string, orgId: string, name: string });

export const requirementPreviewReply = object({ roleId: string, role: string, requireTwoFactor: boolean, holders: integer, forcedToEnrol: integer });

export const removedFactorsReply = object({ removedFactors: integer });

export const adminBackupCodesReply = object({ codes: arrayOf(object({ code: string, used: boolean })) });

const policySource = object({ kind: string, name: string });
const sourced = (value: Schema) => object({ value, sources: arrayOf(policySource) });

export const effectivePolicy = object({ mode: sourced(string), triggers: sourced(strings), allowedMethods: sourced(strings), trustBrowserDays: sourced(integer), phishingResistant: sourced(boolean) });

export const myPolicyReply = object({ policy: effectivePolicy });

export const organisationPolicyReport = object({
  organisation: object({ id: string, name: string, parentId: nullableString }),
  own: {
    ...object({ mode: string, appliesToSubOrganisations: boolean, triggers: strings, allowedMethods: strings, trustBrowserDays: integer, requirePhishingResistant: boolean, updatedAt: timestamp, updatedBy: nullableString }),
    type: ['object', 'null'],
  },
  effective: effectivePolicy,
});

export const rolePolicyReply = object({ roleId: string, role: string, orgId: string, requireTwoFactor: boolean, requirePhishingResistant: boolean });

/**
 * A provider's settings, every kind's fields in one closed object. The credential fields
 * (password, authToken, apiKeySecret, licenseKey, secret) are always redacted ("••••abcd").
 */
const providerConfig = object(
  {
    kind: string,
    host: string,
    port: integer,
    tlsMode: string,
    user: string,
    password: string,
    from: string,
    connectionTimeoutMs: integer,
    socketTimeoutMs: integer,
    allowInvalidCertificates: boolean,
    accountSid: string,
    authToken: string,
    apiKeySid: string,
    apiKeySecret: string,
    messagingServiceSid: string,
    baseUrl: string,
    timeoutMs: integer,
    licenseKey: string,
    url: string,
    secret: string,
    channels: strings,
    fileName: string,
  },
  ['host', 'port', 'tlsMode', 'user', 'password', 'from', 'connectionTimeoutMs', 'socketTimeoutMs', 'allowInvalidCertificates', 'accountSid', 'authToken', 'apiKeySid', 'apiKeySecret', 'messagingServiceSid', 'baseUrl', 'timeoutMs', 'licenseKey', 'url', 'secret', 'channels', 'fileName'],
);

export const providerView = object({ id: string, orgId: string, name: string, kind: string, config: providerConfig, createdAt: timestamp, updatedAt: timestamp });

export const channelEntry = object({
  channel: string,
  own: { ...object({ providerId: nullableString, title: string, allowed: boolean, updatedAt: timestamp }), type: ['object', 'null'] },
  effective: object({ available: boolean, reason: nullableString, fromOrgId: nullableString, providerId: nullableString, title: nullableString }),
});

export const servicesReply = object({ providers: arrayOf(providerView), channels: arrayOf(channelEntry) });

export const providerTestReply = object({ ok: boolean, attempts: integer, providerMessageId: nullableString });

export const oidcClientView = object({
  id: string,
  orgId: string,
  name: string,
  redirectUris: strings,
  postLogoutRedirectUris: strings,
  public: boolean,
  scopes: strings,
  requireTwoFactor: boolean,
  audience: string,
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const clientsReply = object({ clients: arrayOf(oidcClientView) });
export const clientReply = object({ client: oidcClientView });

/** The secret is in this answer only (null for a public client). */
export const oidcClientWithSecret = object({ client: oidcClientView, secret: nullableString });

export const apiKeyView = object({ id: string, orgId: string, name: string, prefix: string, scopes: strings, createdAt: timestamp, lastUsedAt: nullableTimestamp, revokedAt: nullableTimestamp });

export const apiKeysReply = object({ apiKeys: arrayOf(apiKeyView) });

/** The key is in this answer only. */
export const apiKeyCreated = object({ key: string, apiKey: apiKeyView });

// ---- Deploys --------------------------------------------------------------------------------

export const deploymentView = object({
  id: string,
  digest: string,
  summary: strings,
  approver: string,
  method: string,
  approval: { type: 'string', description: 'The signed approval (JWS), verifiable with /.well-known/jwks.json' },
  rollbackOf: nullableString,
  createdAt: timestamp,
});

export const deployTargetView = object({
  id: string,
  orgId: string,
  name: string,
  timing: string,
  requireTwoFactor: boolean,
  bundleUrl: string,
  deployers: arrayOf(object({ id: string, email: string, enrolled: boolean })),
  currentDeployment: { ...deploymentView, type: ['object', 'null'] },
  pendingChanges: integer,
});

export const deployTargetsReply = object({ targets: arrayOf(deployTargetView) });
export const deploymentsReply = object({ deployments: arrayOf(deploymentView) });

export const deployPreview = object({
  target: deployTargetView,
  changes: arrayOf(object({ id: integer, key: string, summary: string, author: string, createdAt: timestamp, oldValue: { ...nullableString, description: 'The entry before this change, as canonical JSON; null when absent' }, newValue: { ...nullableString, description: 'The entry after this change, as canonical JSON; null when removed' } })),
  digest: string,
  pendingVersion: integer,
  unchanged: boolean,
});

export const managedOrganisationsReply = object({ organisations: arrayOf(object({ id: string, name: string, depth: integer })) });
export const organisationCreated = object({ id: string, name: string, parentId: string });

export const brandingView = object({ orgId: string, companyName: nullableString, effectiveCompanyName: string, inheritedFrom: nullableString });

export const deployerCandidatesReply = object({ candidates: arrayOf(object({ id: string, email: string, displayName: string })) });

export const changeAdded = object({ pendingVersion: integer, digest: string, deployment: { ...deploymentView, type: ['object', 'null'] } });

/** Public keys only: a private member (`d`, `p`, …) has no property here and cannot be written. */
const jwk = object(
  { kty: string, kid: string, alg: string, use: string, crv: string, x: string, y: string, n: string, e: string },
  ['kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'],
);

export const jwksReply = object({ keys: arrayOf(jwk) });

/** A deployed bundle is sent exactly as stored (its digest is over those bytes): any JSON object. */
export const bundleReply: Schema = { type: 'object', additionalProperties: true, description: 'The bundle: entry keys and their values, byte for byte as deployed' };

// ---- Health ---------------------------------------------------------------------------------

export const healthReply = object({ status: constant('ok') });
export const readyReply = object({ status: constant('ready'), database: string });

// ---- Codes that travel together ----------------------------------------------------------------

/** A pending sign-in (the `challenge`): unknown, ended, expired, or not offering that method. */
export const FLOW_CODES: readonly ErrorCode[] = ['challenge_invalid', 'challenge_expired', 'method_not_allowed'];
/** A second-factor code judged (SecondFactorVerifier): wrong, expired, or too many tries. */
export const CODE_CHECK_CODES: readonly ErrorCode[] = ['code_invalid', 'code_expired', 'method_not_allowed', 'too_many_attempts', 'second_factor_locked'];
/** A security key's assertion judged (WebAuthnStrategy through the verifier): each refusal has its own code. */
export const WEBAUTHN_CHECK_CODES: readonly ErrorCode[] = [...WEBAUTHN_FAILURES, 'too_many_attempts'];
/** A security key being registered. */
export const WEBAUTHN_REGISTRATION_CODES: readonly ErrorCode[] = [
  'webauthn_registration_invalid',
  'webauthn_credential_exists',
  'webauthn_origin_mismatch',
  'webauthn_rp_id_mismatch',
  'webauthn_challenge_invalid',
  'webauthn_challenge_expired',
  'webauthn_challenge_used',
  'label_invalid',
  'too_many_factors',
];
/** A code sent by text message or email (CodeSender). */
export const CODE_SEND_CODES: readonly ErrorCode[] = ['method_not_sendable', 'factor_not_found', 'resend_too_soon', 'too_many_codes', 'second_factor_locked', 'channel_unavailable', 'delivery_failed'];
/** A phone number or email address to enrol. */
export const DESTINATION_CODES: readonly ErrorCode[] = ['phone_invalid', 'email_invalid', 'label_invalid', 'method_unavailable', 'factor_exists', 'too_many_factors'];
/** A factor being enrolled, looked up by id. */
export const PENDING_FACTOR_CODES: readonly ErrorCode[] = ['factor_not_found', 'factor_already_confirmed', 'enrolment_expired'];
/** A new password (core/password-rules.ts). */
export const PASSWORD_RULE_CODES: readonly ErrorCode[] = ['password_too_short', 'password_too_long', 'password_contains_email', 'password_too_common'];
/** Deploy routes that also take an API key (`Authorization: Bearer`). */
export const DEPLOY_READER_CODES: readonly ErrorCode[] = ['not_signed_in', 'api_key_invalid', 'scope_missing', 'deploy_target_not_found'];

// ---- Phone approvals ------------------------------------------------------------------------

const approver = object({ id: string, name: string, createdAt: timestamp, lastUsedAt: nullableTimestamp, push: boolean });
export const approversReply = object({ approvers: arrayOf(approver) });
export const approverReply = approver;
export const pairingLinkReply = object({ url: string, expiresAt: timestamp });
export const pairedReply = object({ deviceId: string, name: string });
export const vapidKeyReply = object({ publicKey: string });
const approvalDescription = object(
  { action: string, browser: string, place: nullableString, ip: string, at: timestamp, target: string, changes: integer },
  ['target', 'changes'],
);
export const pendingApprovalsReply = object({
  requests: arrayOf(object({ requestId: string, challenge: string, binding: string, choices: arrayOf(integer), description: approvalDescription, expiresAt: timestamp })),
});
export const decisionReply = object({ state: { type: 'string', enum: ['approved', 'denied', 'reported', 'expired', 'cancelled'] } });
export const approvalStartedReply = object({ requestId: string, number: integer, expiresAt: timestamp, approver: string, pushed: boolean });
export const approvalStatusReply = object({ state: { type: 'string', enum: ['pending', 'approved', 'denied', 'expired'] } });
/** The codes of a phone's signed decision or listing. */
export const APPROVER_SIGNED_CODES: readonly ErrorCode[] = ['approver_not_found', 'approval_not_found', 'approval_signature_invalid'];
