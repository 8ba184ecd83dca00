import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The one schema both dialects share. Times are epoch milliseconds (bigint), booleans are
 * integers 0/1 and structured values are JSON text, so that SQLite and PostgreSQL read and
 * write the same shapes and no dialect-specific conversion leaks into the repositories.
 */
export interface OrganisationTable {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: number;
}

/** `invited`: added by an admin, no password yet; cannot sign in until the invitation is accepted. */
export type UserStatus = 'active' | 'disabled' | 'invited';

export interface UserTable {
  id: string;
  org_id: string;
  email: string;
  email_normalized: string;
  display_name: string;
  time_zone: string;
  password_hash: string;
  status: UserStatus;
  password_changed_at: number;
  created_at: number;
  /** Highest TOTP time step ever accepted for this user: codes are strictly once-only. */
  totp_last_step: number | null;
  second_factor_failures: Generated<number>;
  second_factor_locked_until: number | null;
  /** Set when an administrator reset the person's methods: their next sign-in asks them to set one up again (migration 0017). */
  set_up_again_since: Generated<number | null>;
}

export interface RoleTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
}

export interface GroupTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
}

export interface GroupMemberTable {
  group_id: string;
  user_id: string;
}

export interface UserRoleTable {
  user_id: string;
  role_id: string;
}

export interface GroupRoleTable {
  group_id: string;
  role_id: string;
}

export interface SessionTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
  /** JSON array of RFC 8176 method references, e.g. ["pwd","otp"]. */
  amr: string;
  /** Last time the user proved a factor in this session (sign-in or re-authentication). */
  authenticated_at: number;
  /** Last password proof (sign-in or re-authentication). */
  password_at: number | null;
  /** Last second-factor proof; null after a sign-in that a trusted browser let skip the code. */
  second_factor_at: number | null;
  revoked_at: number | null;
}

import type { Bundle, BundleValue } from '../core/bundle.js';
import type { SignInFlowState } from '../core/flows/sign-in.js';
export type { SignInFlowState };

export interface SignInFlowTable {
  id: string;
  token_hash: string;
  user_id: string;
  state: SignInFlowState;
  /** JSON array of the methods still allowed in this flow. */
  methods: string;
  amr: string;
  created_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
  /** A path on this site to land on once signed in, checked before it was stored. */
  return_to: string | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  occurred_at: number;
  event_type: string;
  actor_user_id: string | null;
  subject_user_id: string | null;
  org_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
}

export interface RateLimitTable {
  key: string;
  count: number;
  reset_at: number;
}

export interface SetupTokenTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
}

export type FactorType = 'totp' | 'sms' | 'email' | 'webauthn';
export type FactorStatus = 'pending' | 'active';

export interface FactorTable {
  id: string;
  user_id: string;
  type: FactorType;
  label: string;
  /** AES-256-GCM sealed secret (TOTP key, or phone number / email address), bound to the factor id. */
  secret_encrypted: string;
  /** For text and email factors: the destination as shown to people (+1 ••• ••• 1234). */
  destination_masked: string | null;
  /** A pending factor that, once confirmed, takes the place of this active one (a changed number). */
  replaces_factor_id: string | null;
  status: FactorStatus;
  created_at: number;
  /** Pending enrolments expire; active factors have null. */
  expires_at: number | null;
  confirmed_at: number | null;
  last_used_at: number | null;
}

/** What a security key or passkey holds besides its factor row (see 0018-webauthn). */
export interface WebAuthnCredentialTable {
  factor_id: string;
  user_id: string;
  /** The credential id as the authenticator gave it, base64url. */
  credential_id: string;
  /** The authenticator's signature counter; 0 for those that keep none (most passkeys). */
  sign_count: number;
  /** JSON array of transports (usb, nfc, ble, internal, hybrid) the browser reported. */
  transports: string;
  aaguid: string;
  /** 0/1: may be synced to other devices (a passkey in a password manager), and is now. */
  backup_eligible: number;
  backup_state: number;
  /** 0/1: registered as a discoverable (resident) credential, so it can sign in without an email. */
  discoverable: number;
  /** 0/1: the authenticator verified the person (PIN, biometrics) when it was registered. */
  user_verified: number;
}

export type WebAuthnChallengePurpose = 'registration' | 'sign_in' | 'passkey' | 'reauthentication' | 'deploy';

export interface WebAuthnChallengeTable {
  id: string;
  /** sha256 of the challenge (base64url); the challenge itself comes back signed in clientDataJSON. */
  challenge_hash: string;
  /** Null for a passkey sign-in, where nobody is named until the assertion says who. */
  user_id: string | null;
  purpose: WebAuthnChallengePurpose;
  /** What the challenge is good for within its purpose: the sign-in flow, the session, the deploy target and digest. */
  scope: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface BackupCodeTable {
  id: string;
  user_id: string;
  /** Keyed hash used to find and spend a code. */
  code_hash: string;
  /** Sealed code, kept only so an admin can show the set again. */
  code_encrypted: string;
  created_at: number;
  used_at: number | null;
}

export interface TrustedBrowserTable {
  id: string;
  user_id: string;
  token_hash: string;
  user_agent: string;
  ip: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface OrganisationPolicyTable {
  org_id: string;
  /** 'off' | 'optional' | 'required' */
  mode: string;
  applies_to_sub_organisations: number;
  /** JSON array of challenge triggers. */
  triggers: string;
  /** JSON array of method names. */
  allowed_methods: string;
  trust_browser_days: number;
  /** 0/1: codes do not finish the second step; a security key or passkey does (migration 0021). */
  require_phishing_resistant: number;
  updated_at: number;
  updated_by: string | null;
}

export interface RolePolicyTable {
  role_id: string;
  require_two_factor: number;
  require_phishing_resistant: number;
  updated_at: number;
  updated_by: string | null;
}

export type DeliveryChannel = 'sms' | 'email';

export interface DeliveryProviderTable {
  id: string;
  org_id: string;
  name: string;
  /** smtp | twilio | cdyne | webhook | console | file */
  kind: string;
  /** The whole provider configuration as sealed JSON, bound to the provider id. */
  config_encrypted: string;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

/** A secondary-authentication entry: which provider carries a channel for an organisation, and whether users may use it. */
export interface ChannelEntryTable {
  org_id: string;
  channel: DeliveryChannel;
  provider_id: string | null;
  title: string;
  allowed: number;
  updated_at: number;
  updated_by: string | null;
}

export type OneTimeCodePurpose = 'sign_in' | 'enrolment' | 'reauthentication' | 'deploy';
export type OneTimeCodeStatus = 'live' | 'used' | 'voided';

export interface OneTimeCodeTable {
  id: string;
  user_id: string;
  factor_id: string;
  purpose: OneTimeCodePurpose;
  /** What the code is good for within its purpose: the sign-in flow, the factor being enrolled, the session, or the deploy target and digest. */
  scope: string;
  /** Keyed hash of the code; the code itself is only in the message. */
  code_hash: string;
  status: OneTimeCodeStatus;
  attempts: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface PasswordResetTokenTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Keys that sign deploy approvals (and OIDC tokens); the private half is sealed. */
export interface SigningKeyTable {
  kid: string;
  alg: string;
  private_jwk_encrypted: string;
  public_jwk: string;
  created_at: number;
  /** A retired key still verifies (it stays in the JWKS for a while) but signs nothing new. */
  retired_at: number | null;
}

export interface ApiKeyTable {
  id: string;
  org_id: string;
  name: string;
  /** SHA-256 of the secret; the secret is shown once. */
  key_hash: string;
  /** The key's first characters, so people can tell keys apart. */
  prefix: string;
  /** JSON array of scopes such as "changes:write". */
  scopes: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export type DeployTiming = 'automatic' | 'manual';

export interface DeployTargetTable {
  id: string;
  org_id: string;
  /** The stable, unguessable name in the public bundle URL. */
  public_key: string;
  name: string;
  timing: DeployTiming;
  /** Once 1, never 0 again. */
  require_two_factor: number;
  /** JSON object: entry key → value, the bundle as it would go out now. */
  pending_bundle: string;
  /** Bumped by every change, so a deploy can tell the bundle it reviewed is still the one pending. */
  pending_version: number;
  current_deployment_id: string | null;
  created_at: number;
  created_by: string | null;
}

export interface DeployDeployerTable {
  target_id: string;
  user_id: string;
}

export interface DeployChangeTable {
  id: Generated<number>;
  target_id: string;
  entry_key: string;
  /** JSON value, or null to remove the entry. */
  value: string | null;
  summary: string;
  /** "user:<id>" or "api_key:<id>". */
  author: string;
  created_at: number;
  /** Null while pending. */
  deployment_id: string | null;
}

export interface DeploymentTable {
  id: string;
  target_id: string;
  bundle: string;
  digest: string;
  /** JSON array of the change summaries that went out. */
  summary: string;
  /** "user:<id>" or "api_key:<id>" (automatic targets). */
  approver: string;
  /** How the approver proved it: totp, sms, email, backup_code, or none. */
  method: string;
  /** Compact JWS a pipeline verifies against /.well-known/jwks.json. */
  approval: string;
  rollback_of: string | null;
  created_at: number;
}

/** An emailed invitation to set a first password; only the token's hash is kept. */
export interface InvitationTable {
  token_hash: string;
  user_id: string;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  /** When it was accepted, revoked or replaced by a newer invitation: then it no longer works. */
  used_at: number | null;
}

export interface Schema {
  organisations: OrganisationTable;
  users: UserTable;
  roles: RoleTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  user_roles: UserRoleTable;
  group_roles: GroupRoleTable;
  sessions: SessionTable;
  sign_in_flows: SignInFlowTable;
  audit_events: AuditEventTable;
  rate_limits: RateLimitTable;
  setup_tokens: SetupTokenTable;
  factors: FactorTable;
  webauthn_credentials: WebAuthnCredentialTable;
  webauthn_challenges: WebAuthnChallengeTable;
  backup_codes: BackupCodeTable;
  trusted_browsers: TrustedBrowserTable;
  organisation_policies: OrganisationPolicyTable;
  role_policies: RolePolicyTable;
  delivery_providers: DeliveryProviderTable;
  channel_entries: ChannelEntryTable;
  one_time_codes: OneTimeCodeTable;
  password_reset_tokens: PasswordResetTokenTable;
  invitations: InvitationTable;
  signing_keys: SigningKeyTable;
  api_keys: ApiKeyTable;
  deploy_targets: DeployTargetTable;
  deploy_deployers: DeployDeployerTable;
  deploy_changes: DeployChangeTable;
  deployments: DeploymentTable;
  known_devices: KnownDeviceTable;
  known_locations: KnownLocationTable;
}

export type Organisation = Selectable<OrganisationTable>;
export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type SessionRow = Selectable<SessionTable>;
/** A session as the store hands it out: its amr decoded from the row's JSON text. */
export type Session = Omit<SessionRow, 'amr'> & { amr: string[] };
/** A stored sign-in flow's row; the store hands out the parsed flow (core/flows/sign-in.ts). */
export type SignInFlowRow = Selectable<SignInFlowTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
/** An audit event as the store hands it out: its details decoded from the row's JSON text. */
export type AuditEvent = Omit<AuditEventRow, 'details'> & { details: Record<string, unknown> };
export type Factor = Selectable<FactorTable>;
export type WebAuthnCredential = Selectable<WebAuthnCredentialTable>;
export type WebAuthnChallenge = Selectable<WebAuthnChallengeTable>;
export type BackupCode = Selectable<BackupCodeTable>;
export type TrustedBrowser = Selectable<TrustedBrowserTable>;
export type Role = Selectable<RoleTable>;
export type Group = Selectable<GroupTable>;
export type OrganisationPolicyRow = Selectable<OrganisationPolicyTable>;
export type RolePolicyRow = Selectable<RolePolicyTable>;
export type DeliveryProviderRow = Selectable<DeliveryProviderTable>;
export type ChannelEntryRow = Selectable<ChannelEntryTable>;
/** A channel entry as the store hands it out: `allowed` decoded from 0/1. */
export type ChannelEntry = Omit<ChannelEntryRow, 'allowed'> & { allowed: boolean };
export type OneTimeCode = Selectable<OneTimeCodeTable>;
export type PasswordResetToken = Selectable<PasswordResetTokenTable>;
export type Invitation = Selectable<InvitationTable>;
export type SigningKey = Selectable<SigningKeyTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type DeployTargetRow = Selectable<DeployTargetTable>;
export type DeployChangeRow = Selectable<DeployChangeTable>;
export type DeploymentRow = Selectable<DeploymentTable>;
/** A deploy target as the store hands it out: the pending bundle parsed, the 2FA flag a boolean. */
export type DeployTarget = Omit<DeployTargetRow, 'pending_bundle' | 'require_two_factor'> & { pending_bundle: Bundle; require_two_factor: boolean };
/** A pending or deployed change: its value parsed (null removes the entry). */
export type DeployChange = Omit<DeployChangeRow, 'value'> & { value: BundleValue | null };
/** A deployment: the bundle that went live and the summary, parsed. */
export type Deployment = Omit<DeploymentRow, 'bundle' | 'summary'> & { bundle: Bundle; summary: string[] };

/** A browser a user has signed in from, recognised by a long-lived cookie (stored as its hash). */
export interface KnownDeviceTable {
  id: string;
  user_id: string;
  token_hash: string;
  /** The latest User-Agent header seen with this cookie. */
  user_agent: string;
  /** "Chrome on macOS", for people. */
  label: string;
  first_seen_at: number;
  last_seen_at: number;
  last_ip: string;
  sign_in_count: number;
  blocked_at: number | null;
}

/** A place a user has signed in from: one row per country (and region, where the data has it). */
export interface KnownLocationTable {
  id: string;
  user_id: string;
  /** "US/CA", or "US" from country-only data; unique per user. */
  location_key: string;
  country: string;
  region: string | null;
  /** The city of the latest sign-in, where the data has it; not part of the key. */
  city: string | null;
  first_seen_at: number;
  last_seen_at: number;
  last_ip: string;
  sign_in_count: number;
  blocked_at: number | null;
}

export type KnownDevice = Selectable<KnownDeviceTable>;
export type KnownLocation = Selectable<KnownLocationTable>;

/** Where a session was opened from: the device and location its sign-in was counted against. */
export interface SessionOriginTable {
  session_id: string;
  user_id: string;
  device_id: string | null;
  location_id: string | null;
}

/** A user's choice of sign-in notices; no row means every notice is on. */
export interface NotificationSettingsTable {
  user_id: string;
  new_device: number;
  new_location: number;
  updated_at: number;
}

export type SessionOrigin = Selectable<SessionOriginTable>;
export type NotificationSettingsRow = Selectable<NotificationSettingsTable>;
/** Which sign-in notices a person wants, decoded from the row's 0/1 columns. */
export interface NotificationSettings {
  userId: string;
  newDevice: boolean;
  newLocation: boolean;
  updatedAt: number;
}

/** Tables added after the first Schema, merged into it (interfaces with one name merge). */
export interface Schema {
  session_origins: SessionOriginTable;
  notification_settings: NotificationSettingsTable;
}

/** An app that signs people in through Twofold with OpenID Connect. */
export interface OidcClientTable {
  id: string;
  /** The organisation whose admins manage the client. */
  org_id: string;
  name: string;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array of exact URIs an app may send people to after signing out. */
  post_logout_redirect_uris: string;
  /** 1: a public client (no secret, PKCE only); 0: confidential (client_secret_basic). */
  public: number;
  /** JSON array of the scopes the client may ask for. */
  scopes: string;
  /** 1: everyone signing in to this app passes a second factor, whatever their organisation's policy. */
  require_two_factor: number;
  /** HMAC-SHA256 of the secret under a key derived from the server secret; null for public clients. */
  secret_hash: string | null;
  /** Who may sign in to it: 'organisation' (people of its organisation and those below it) or 'everyone'. */
  audience: 'organisation' | 'everyone';
  created_at: number;
  created_by: string | null;
  updated_at: number;
}

/** What a person agreed to share with an app, so they are asked once per app (and again for more). */
export interface OidcConsentTable {
  user_id: string;
  client_id: string;
  /** JSON array of scopes. */
  scopes: string;
  granted_at: number;
}

/** oidc-provider's records (codes, tokens, grants, sessions, interactions), one row per model and id. */
export interface OidcPayloadTable {
  model: string;
  id: string;
  /** The provider's JSON payload. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  created_at: number;
  /** Null: no expiry. Rows past it are never returned and are swept now and then. */
  expires_at: number | null;
  consumed_at: number | null;
}

export type OidcClientRow = Selectable<OidcClientTable>;
export type OidcConsentRow = Selectable<OidcConsentTable>;
export type OidcPayloadRow = Selectable<OidcPayloadTable>;

export interface Schema {
  oidc_clients: OidcClientTable;
  oidc_consents: OidcConsentTable;
  oidc_payloads: OidcPayloadTable;
}

/** Key material that outlives a master key, sealed under the current one (key rotation). */
export interface KeyMaterialTable {
  /** 'derivation-root': the key lookup peppers come from. */
  name: string;
  sealed: string;
  updated_at: number;
}

export interface Schema {
  key_material: KeyMaterialTable;
}

/** An organisation's own branding; absent when it shows its parent's (or the configured default). */
export interface OrganisationBrandingTable {
  org_id: string;
  /** The company name shown on pages, in messages and as the authenticator issuer. */
  company_name: string;
  updated_at: number;
  updated_by: string | null;
}

export type OrganisationBranding = Selectable<OrganisationBrandingTable>;

export interface Schema {
  organisation_branding: OrganisationBrandingTable;
}

/** A phone paired to approve sign-ins (migration 0019): its public device key and, when it has one, its Web Push subscription (sealed). */
export interface ApproverDeviceTable {
  id: string;
  user_id: string;
  name: string;
  /** The phone's ECDSA P-256 public key as a JWK (JSON text); the private key never leaves the phone. */
  public_key_jwk: string;
  /** The Web Push subscription (endpoint and keys, JSON) sealed with the master key, or null when the browser cannot subscribe. */
  push_subscription_encrypted: string | null;
  created_at: number;
  last_used_at: number | null;
  removed_at: number | null;
}

export type ApproverDevice = Selectable<ApproverDeviceTable>;

/** A single-use, short-lived link that pairs a phone; only its hash is kept. */
export interface ApproverPairingTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  device_id: string | null;
}

export type ApprovalRequestState = 'pending' | 'approved' | 'denied' | 'reported' | 'expired' | 'cancelled';

/** One request for a phone's approval, bound to what it unlocks (`binding`), with the number the person must pick. */
export interface ApprovalRequestTable {
  id: string;
  user_id: string;
  device_id: string;
  /** 'sign_in' | 'reauthentication' | 'deploy'. */
  purpose: string;
  /** What the approval unlocks, e.g. `sign_in:<flow id>`; the phone signs it, so an approval cannot move to another flow. */
  binding: string;
  number: number;
  /** JSON array of the numbers the phone offers (the right one among them). */
  choices: string;
  /** Random, signed by the phone with the decision: an old signature fits no new request. */
  challenge: string;
  /** JSON: what the phone shows (browser, OS, place, time; for a deploy its target and changes). Nothing secret. */
  description: string;
  state: ApprovalRequestState;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  /** When an approval was spent on what it unlocks: once only. */
  used_at: number | null;
  ip: string;
  user_agent: string;
}

export type ApprovalRequest = Selectable<ApprovalRequestTable>;

export interface Schema {
  approver_devices: ApproverDeviceTable;
  approver_pairings: ApproverPairingTable;
  approval_requests: ApprovalRequestTable;
}

/** The factor a person chose to open their second step on (migration 0020); no row: the usual order. */
export interface DefaultMethodTable {
  user_id: string;
  factor_id: string;
  updated_at: number;
}

/** An organisation's own settings (migration 0020); no row: every setting at its default. */
export interface OrganisationSettingsTable {
  org_id: string;
  /** 1: new backup codes are also emailed to the person's verified address. Off (0) by default. */
  email_backup_codes: number;
  updated_at: number;
  updated_by: string | null;
}

export type OrganisationSettings = Selectable<OrganisationSettingsTable>;

export interface Schema {
  default_methods: DefaultMethodTable;
  organisation_settings: OrganisationSettingsTable;
}
