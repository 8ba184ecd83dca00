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

export type UserStatus = 'active' | 'disabled';

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

export type SignInFlowState = 'second_factor_required' | 'enrolment_required' | 'completed';

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

export type FactorType = 'totp' | 'sms' | 'email';
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
  updated_at: number;
  updated_by: string | null;
}

export interface RolePolicyTable {
  role_id: string;
  require_two_factor: number;
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
  backup_codes: BackupCodeTable;
  trusted_browsers: TrustedBrowserTable;
  organisation_policies: OrganisationPolicyTable;
  role_policies: RolePolicyTable;
  delivery_providers: DeliveryProviderTable;
  channel_entries: ChannelEntryTable;
  one_time_codes: OneTimeCodeTable;
  password_reset_tokens: PasswordResetTokenTable;
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
export type Session = Selectable<SessionTable>;
export type SignInFlow = Selectable<SignInFlowTable>;
export type AuditEvent = Selectable<AuditEventTable>;
export type Factor = Selectable<FactorTable>;
export type BackupCode = Selectable<BackupCodeTable>;
export type TrustedBrowser = Selectable<TrustedBrowserTable>;
export type Role = Selectable<RoleTable>;
export type Group = Selectable<GroupTable>;
export type OrganisationPolicyRow = Selectable<OrganisationPolicyTable>;
export type RolePolicyRow = Selectable<RolePolicyTable>;
export type DeliveryProviderRow = Selectable<DeliveryProviderTable>;
export type ChannelEntry = Selectable<ChannelEntryTable>;
export type OneTimeCode = Selectable<OneTimeCodeTable>;
export type PasswordResetToken = Selectable<PasswordResetTokenTable>;
export type SigningKey = Selectable<SigningKeyTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type DeployTarget = Selectable<DeployTargetTable>;
export type DeployChange = Selectable<DeployChangeTable>;
export type Deployment = Selectable<DeploymentTable>;

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
