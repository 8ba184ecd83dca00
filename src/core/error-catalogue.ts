/**
 * Every error code Twofold can answer with, and its one kind; the kind fixes the HTTP status.
 * One code, one kind, one status: a code's meaning never depends on where it was raised.
 *
 * `ErrorCode` is derived from this table and the factories in errors.ts only take the codes of
 * their own kind (`invalidInput(code: CodeOf<'invalid_input'>, …)`), so an unknown code or a
 * code used with the wrong kind does not compile. To add a code, add a line here.
 */

/** Kinds and their HTTP status (the JSON API and the pages use the same numbers). */
export const STATUS_BY_KIND = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorKind = keyof typeof STATUS_BY_KIND;

/** Every status an error is answered with. */
export type ErrorStatus = (typeof STATUS_BY_KIND)[ErrorKind];

export const ERROR_CATALOGUE = {
  // The request itself (src/http: Fastify's parser and validator, the API's 404, the last resort).
  invalid_request: 'invalid_input',
  invalid_json: 'invalid_input',
  body_too_large: 'payload_too_large',
  unsupported_media_type: 'unsupported_media_type',
  not_found: 'not_found',
  internal_error: 'internal',
  csrf_failed: 'forbidden',

  // Infrastructure.
  database_unavailable: 'unavailable',
  decrypt_failed: 'unavailable',
  location_unavailable: 'unavailable',
  server_busy: 'unavailable',
  secret_key_invalid: 'invalid_input',
  key_purpose_invalid: 'invalid_input',
  token_size_invalid: 'invalid_input',

  // Setup, sign-in, sessions.
  setup_done: 'conflict',
  setup_token_invalid: 'unauthenticated',
  invalid_credentials: 'unauthenticated',
  not_signed_in: 'unauthenticated',
  sign_in_refused: 'forbidden',
  challenge_invalid: 'unauthenticated',
  challenge_expired: 'gone',
  session_not_found: 'not_found',
  reauthentication_required: 'forbidden',
  proof_required: 'invalid_input',
  too_many_attempts: 'rate_limited',

  // Second factors: codes, enrolment, backup codes, trusted browsers.
  code_invalid: 'unauthenticated',
  code_expired: 'unauthenticated',
  second_factor_locked: 'rate_limited',
  method_not_allowed: 'invalid_input',
  method_not_sendable: 'invalid_input',
  method_unavailable: 'forbidden',
  factor_not_found: 'not_found',
  factor_exists: 'conflict',
  factor_already_confirmed: 'conflict',
  factor_required_by_policy: 'forbidden',
  too_many_factors: 'conflict',
  no_factor: 'conflict',
  enrolment_expired: 'gone',
  label_invalid: 'invalid_input',
  phone_invalid: 'invalid_input',
  email_invalid: 'invalid_input',
  totp_account_invalid: 'invalid_input',
  totp_issuer_invalid: 'invalid_input',
  totp_secret_invalid: 'invalid_input',
  totp_window_invalid: 'invalid_input',
  backup_code_invalid: 'invalid_input',
  backup_code_count_invalid: 'invalid_input',
  no_backup_codes: 'conflict',
  trusted_browser_not_found: 'not_found',
  webauthn_assertion_invalid: 'unauthenticated',
  webauthn_credential_unknown: 'unauthenticated',
  webauthn_origin_mismatch: 'unauthenticated',
  webauthn_rp_id_mismatch: 'unauthenticated',
  webauthn_challenge_invalid: 'unauthenticated',
  webauthn_challenge_expired: 'unauthenticated',
  webauthn_challenge_used: 'unauthenticated',
  webauthn_counter_regressed: 'unauthenticated',
  webauthn_registration_invalid: 'invalid_input',
  webauthn_credential_exists: 'conflict',
  passkey_user_verification_required: 'unauthenticated',
  phishing_resistant_required: 'forbidden',

  // Sending codes and messages.
  resend_too_soon: 'rate_limited',
  too_many_codes: 'rate_limited',
  channel_unavailable: 'unavailable',
  delivery_failed: 'unavailable',
  delivery_unavailable: 'unavailable',
  template_input_invalid: 'invalid_input',

  // Passwords and reset links.
  password_too_short: 'invalid_input',
  password_too_long: 'invalid_input',
  password_contains_email: 'invalid_input',
  password_too_common: 'invalid_input',
  too_many_requests: 'rate_limited',
  reset_link_invalid: 'gone',

  // The security centre: devices, locations, activity, preferences.
  device_not_found: 'not_found',
  device_in_use: 'conflict',
  location_not_found: 'not_found',
  location_in_use: 'conflict',
  activity_type_invalid: 'invalid_input',
  event_type_invalid: 'invalid_input',
  cursor_invalid: 'invalid_input',
  limit_invalid: 'invalid_input',
  timestamp_invalid: 'invalid_input',
  time_zone_invalid: 'invalid_input',

  // People, organisations, roles, groups.
  not_admin: 'forbidden',
  person_required: 'forbidden',
  user_not_found: 'not_found',
  user_id_invalid: 'invalid_input',
  organisation_not_found: 'not_found',
  organisation_mismatch: 'invalid_input',
  cannot_disable_self: 'forbidden',
  cannot_reset_self: 'forbidden',
  email_taken: 'conflict',
  display_name_invalid: 'invalid_input',
  name_invalid: 'invalid_input',
  company_name_invalid: 'invalid_input',
  role_not_found: 'not_found',
  role_invalid: 'invalid_input',
  group_not_found: 'not_found',
  group_invalid: 'invalid_input',
  group_exists: 'conflict',
  role_exists: 'conflict',
  role_protected: 'conflict',
  cannot_delete_self: 'forbidden',
  cannot_demote_self: 'forbidden',
  invitation_not_pending: 'conflict',
  invitation_invalid: 'gone',
  too_many_invitations: 'rate_limited',
  factor_id_invalid: 'invalid_input',

  // Two-factor policy.
  mode_invalid: 'invalid_input',
  triggers_invalid: 'invalid_input',
  allowed_methods_invalid: 'invalid_input',
  trust_browser_days_invalid: 'invalid_input',

  // Delivery providers and channels.
  provider_not_found: 'not_found',
  provider_in_use: 'conflict',
  provider_config_invalid: 'invalid_input',
  provider_kind_fixed: 'invalid_input',
  provider_channel_mismatch: 'invalid_input',
  provider_address_not_allowed: 'invalid_input',
  title_invalid: 'invalid_input',

  // OpenID Connect clients.
  client_not_found: 'not_found',
  client_is_public: 'invalid_input',
  audience_invalid: 'invalid_input',
  audience_everyone_not_allowed: 'forbidden',
  scopes_invalid: 'invalid_input',
  redirect_uri_invalid: 'invalid_input',
  post_logout_redirect_uri_invalid: 'invalid_input',

  // API keys.
  api_key_invalid: 'unauthenticated',
  metrics_token_invalid: 'unauthenticated',
  api_key_not_found: 'not_found',
  scope_missing: 'forbidden',

  // Deploy targets and deployments.
  deploy_target_not_found: 'not_found',
  deployment_not_found: 'not_found',
  bundle_not_found: 'not_found',
  not_deployer: 'forbidden',
  code_required: 'forbidden',
  code_not_required: 'invalid_input',
  confirmation_required: 'invalid_input',
  two_factor_irreversible: 'conflict',
  two_factor_needs_manual: 'invalid_input',
  deployer_not_found: 'invalid_input',
  deployer_not_enrolled: 'forbidden',
  deployer_outside_organisation: 'invalid_input',
  deployer_without_two_factor: 'invalid_input',
  too_many_deployers: 'invalid_input',
  entry_key_invalid: 'invalid_input',
  summary_invalid: 'invalid_input',
  bundle_too_large: 'invalid_input',
  bundle_changed: 'conflict',
  deploy_conflict: 'conflict',
  target_busy: 'conflict',

  // Phone approvals (issue 19).
  approver_not_found: 'not_found',
  approver_key_invalid: 'invalid_input',
  push_subscription_invalid: 'invalid_input',
  pairing_link_invalid: 'gone',
  approval_not_found: 'not_found',
  approval_signature_invalid: 'unauthenticated',
  approval_already_decided: 'conflict',
  approval_expired: 'gone',
  approval_number_wrong: 'forbidden',
  approval_pending: 'conflict',
  approval_decision_invalid: 'invalid_input',
  push_paused: 'forbidden',
  too_many_pushes: 'rate_limited',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The codes of one kind: what `invalidInput`, `notFound`, … accept. */
export type CodeOf<K extends ErrorKind> = { [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C] extends K ? C : never }[ErrorCode];

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}

export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CATALOGUE[code];
}

export function statusOfKind(kind: ErrorKind): ErrorStatus {
  return STATUS_BY_KIND[kind];
}

/** The one HTTP status a code is answered with. */
export function statusOf(code: ErrorCode): ErrorStatus {
  return STATUS_BY_KIND[ERROR_CATALOGUE[code]];
}

/** The codes answered with one status, in catalogue order (for API descriptions). */
export function codesWithStatus(status: number): ErrorCode[] {
  return ERROR_CODES.filter((code) => statusOf(code) === status);
}
