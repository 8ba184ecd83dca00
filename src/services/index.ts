import type { CommittedAuditListener, PoolUse } from '../store/index.js';
import { AccountService } from './accounts.js';
import { AuditQueryService } from './audit-query.js';
import { BackupCodeService } from './backup-codes.js';
import { OrganisationSettingsService } from './organisation-settings.js';
import type { Clock, ServiceDeps, ServiceSettings } from './context.js';
import { DeliveredFactorService } from './delivered-factors.js';
import { FactorService } from './factors.js';
import { SecurityKeyService } from './security-keys.js';
import { CodeSender } from './messaging/code-sender.js';
import { Notifier } from './messaging/notifier.js';
import { ProviderAdminService } from './messaging/provider-admin.js';
import { MessageSender } from './messaging/sender.js';
import { MethodCatalogue } from './methods.js';
import { PasswordResetService } from './password-reset.js';
import { PolicyService } from './policy.js';
import { AttemptLimiter } from './rate-limiter.js';
import { ReauthenticationService } from './reauthentication.js';
import { BackupCodeStrategy } from './second-factor/backup-code-strategy.js';
import { TotpStrategy } from './second-factor/totp-strategy.js';
import { SecondFactorVerifier } from './second-factor/verifier.js';
import { SessionService } from './sessions.js';
import { SetupService } from './setup.js';
import { SignOutService } from './sign-out.js';
import { SignInService } from './sign-in.js';
import { TrustedBrowserService } from './trusted-browsers.js';
import { UserAdminService } from './user-admin.js';
import { InvitationService } from './invitations.js';
import { RolesAdminService } from './roles-admin.js';
import { DeviceRecognition } from './devices.js';
import { GeoIpLocator } from './geoip.js';
import { ApiKeyService } from './api-keys.js';
import { DeployService } from './deploys/index.js';
import { BrandingService } from './branding.js';
import { SigningKeyService } from './signing-keys.js';
import { OidcClientService } from './oidc-clients.js';
import { OidcSignInService } from './oidc-sign-in.js';
import { ActivityLog } from './activity-log.js';
import { SecurityCentre } from './security-centre.js';
import { SignInNotices } from './sign-in-notices.js';
import { OrganisationTree } from './organisation-tree.js';
import { OidcStorageFactory } from './oidc-storage.js';
import { HousekeepingService } from './housekeeping.js';
import type { SweptListener } from './housekeeping.js';
import { ApprovalService } from './approvals/approvals.js';
import { VapidKeys } from './approvals/vapid.js';

export type { Clock, RequestMeta, ServiceDeps, ServiceSettings } from './context.js';
export type { Actor } from './actor.js';
export { sessionActor } from './actor.js';

/** Whether the database answers: what `/readyz` asks. */
export interface Readiness {
  dialect: string;
  ping(): Promise<void>;
}

/** What the metrics watch: audit events once committed, and the database's connection pool. */
export interface Signals {
  onCommittedAudit(listener: CommittedAuditListener): () => void;
  poolUse(): PoolUse | null;
  /** Rows the housekeeping sweep deleted, per table, as it goes. */
  onSwept(listener: SweptListener): () => void;
}

/**
 * What the HTTP layer and the command line see: use cases, the clock and the settings, never the
 * database itself (the routes cannot run a query, so every rule stays in a service).
 */
export interface Services {
  clock: Clock;
  settings: Readonly<ServiceSettings>;
  readiness: Readiness;
  signals: Signals;
  /** The background sweep of dead rows (started by the serving process, see http/server.ts). */
  housekeeping: HousekeepingService;
  organisations: OrganisationTree;
  /** What the OIDC mount needs to build the provider: its storage and its cookie keys. */
  oidcSetup: {
    storage(replayed: (model: string) => Error): OidcStorageFactory;
    cookieKeys(): string[];
  };
  accounts: AccountService;
  sessions: SessionService;
  setup: SetupService;
  signIn: SignInService;
  signOut: SignOutService;
  audit: AuditQueryService;
  factors: FactorService;
  deliveredFactors: DeliveredFactorService;
  securityKeys: SecurityKeyService;
  methods: MethodCatalogue;
  backupCodes: BackupCodeService;
  organisationSettings: OrganisationSettingsService;
  trustedBrowsers: TrustedBrowserService;
  reauth: ReauthenticationService;
  policy: PolicyService;
  providers: ProviderAdminService;
  notifier: Notifier;
  passwordReset: PasswordResetService;
  userAdmin: UserAdminService;
  invitations: InvitationService;
  rolesAdmin: RolesAdminService;
  devices: DeviceRecognition;
  signingKeys: SigningKeyService;
  apiKeys: ApiKeyService;
  deploys: DeployService;
  branding: BrandingService;
  oidcClients: OidcClientService;
  oidcSignIn: OidcSignInService;
  securityCentre: SecurityCentre;
  activity: ActivityLog;
  approvals: ApprovalService;
}

/** Wires the use cases together. The HTTP layer and the CLI both start here. */
export function createServices(deps: ServiceDeps): Services {
  const limiter = new AttemptLimiter(deps.database.db, deps.clock);
  const sender = new MessageSender(deps);
  const notifier = new Notifier(deps, sender);
  const accounts = new AccountService(deps, notifier);
  const sessions = new SessionService(deps);
  const backupCodes = new BackupCodeService(deps, sender);
  const trustedBrowsers = new TrustedBrowserService(deps);
  const policy = new PolicyService(deps, notifier);
  const methods = new MethodCatalogue(deps, policy);
  const codes = new CodeSender(deps, sender, limiter);
  // Text and email codes are checked per call against the purpose they were sent for (see the verifier).
  const verifier = new SecondFactorVerifier(deps, [new TotpStrategy(deps), new BackupCodeStrategy(deps, backupCodes)], limiter, codes, notifier);
  const factors = new FactorService(deps, verifier, backupCodes, policy, notifier, sessions);
  const deliveredFactors = new DeliveredFactorService(deps, factors, codes, verifier, methods);
  const securityKeys = new SecurityKeyService(deps, factors);
  const signingKeys = new SigningKeyService(deps);
  const locator = new GeoIpLocator(deps.settings.geoIp);
  const devices = new DeviceRecognition(deps, locator);
  const securityCentre = new SecurityCentre(deps, locator);
  const oidcClients = new OidcClientService(deps);
  const housekeeping = new HousekeepingService(deps);
  const approvals = new ApprovalService(deps, limiter, notifier, locator, new VapidKeys(deps), policy);
  return {
    clock: deps.clock,
    settings: deps.settings,
    readiness: { dialect: deps.database.dialect, ping: () => deps.database.ping() },
    signals: {
      onCommittedAudit: (listener) => deps.database.committedAudit?.subscribe(listener) ?? (() => {}),
      poolUse: () => deps.database.poolUse?.() ?? null,
      onSwept: (listener) => housekeeping.onSwept(listener),
    },
    housekeeping,
    organisations: new OrganisationTree(deps),
    oidcSetup: {
      storage: (replayed) => new OidcStorageFactory(deps, oidcClients, replayed),
      cookieKeys: () => [deps.box.deriveKey('oidc-cookies').toString('base64url')],
    },
    accounts,
    sessions,
    setup: new SetupService(deps, accounts, sessions),
    signIn: new SignInService(deps, limiter, sessions, verifier, trustedBrowsers, policy, factors, deliveredFactors, methods, codes, devices, new SignInNotices(notifier, securityCentre), securityKeys, approvals),
    signOut: new SignOutService(deps),
    audit: new AuditQueryService(deps, accounts),
    factors,
    deliveredFactors,
    securityKeys,
    methods,
    backupCodes,
    trustedBrowsers,
    reauth: new ReauthenticationService(deps, sessions, verifier, limiter, codes, methods, securityKeys, approvals),
    policy,
    providers: new ProviderAdminService(deps, sender),
    organisationSettings: new OrganisationSettingsService(deps),
    notifier,
    passwordReset: new PasswordResetService(deps, limiter, sender, notifier),
    userAdmin: new UserAdminService(deps, accounts, backupCodes, policy, notifier),
    invitations: new InvitationService(deps, limiter, sender),
    rolesAdmin: new RolesAdminService(deps, policy),
    signingKeys,
    devices,
    apiKeys: new ApiKeyService(deps),
    deploys: new DeployService(deps, verifier, signingKeys, codes, methods, securityKeys, approvals),
    branding: new BrandingService(deps),
    oidcClients,
    oidcSignIn: new OidcSignInService(deps, sessions, factors),
    securityCentre,
    activity: new ActivityLog(deps),
    approvals,
  };
}
