import type { Channel, ProviderKind } from '../../delivery/index.js';
import { AdminNav } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { ProviderInstructions } from './provider-instructions.js';

export interface ProviderFormField {
  /** The configuration field this input fills. */
  name: string;
  label: string;
  input: 'text' | 'number' | 'secret' | 'select' | 'checkbox' | 'channels';
  required?: boolean;
  hint?: string;
  placeholder?: string;
  options?: ReadonlyArray<{ value: string; label: string }>;
  /** Secrets only: the fields whose change means the secret must be typed again. */
  boundTo?: string;
}

export const KIND_LABELS: Record<ProviderKind, string> = {
  smtp: 'SMTP',
  twilio: 'Twilio',
  cdyne: 'Cdyne',
  webhook: 'Webhook',
  console: 'Console',
  file: 'File',
};

export const KIND_DESCRIPTIONS: Record<ProviderKind, string> = {
  smtp: 'Email through your mail server or relay.',
  twilio: 'Text messages through a Twilio account.',
  cdyne: 'Text messages through Cdyne SMS Notify!.',
  webhook: 'Hands each message to your own HTTP endpoint, signed with a shared secret.',
  console: 'Development only: messages are written to the server log.',
  file: 'Development only: messages are appended to a file in the data directory.',
};

const timeout = (name: string, label: string, byDefault: string): ProviderFormField => ({ name, label, input: 'number', hint: `Milliseconds; default ${byDefault}.` });

/** The form of each provider kind. The service checks every value again; these only shape the page. */
export const PROVIDER_FORM_FIELDS: Record<ProviderKind, readonly ProviderFormField[]> = {
  smtp: [
    { name: 'host', label: 'Host', input: 'text', required: true, placeholder: 'smtp.example.com' },
    {
      name: 'tlsMode',
      label: 'Encryption',
      input: 'select',
      required: true,
      options: [
        { value: 'starttls', label: 'STARTTLS (usually port 587)' },
        { value: 'tls', label: 'Implicit TLS (usually port 465)' },
        { value: 'none', label: 'None: plain text, for a relay on this host' },
      ],
    },
    { name: 'port', label: 'Port', input: 'number', hint: 'Default 587, or 465 with implicit TLS.' },
    { name: 'user', label: 'User name', input: 'text', hint: 'Leave user name and password blank for a relay that needs no login.' },
    { name: 'password', label: 'Password', input: 'secret', boundTo: 'host, port, user name or encryption' },
    { name: 'from', label: 'From', input: 'text', required: true, placeholder: 'Example <no-reply@example.com>' },
    timeout('connectionTimeoutMs', 'Connection timeout', '10000'),
    timeout('socketTimeoutMs', 'Socket timeout', '20000'),
    { name: 'allowInvalidCertificates', label: 'Accept an invalid or self-signed certificate (development relays only)', input: 'checkbox' },
  ],
  twilio: [
    { name: 'accountSid', label: 'Account SID', input: 'text', required: true, placeholder: 'AC…' },
    { name: 'authToken', label: 'Auth token', input: 'secret', hint: 'Or leave blank and give an API key below.', boundTo: 'account SID, API key SID or base URL' },
    { name: 'apiKeySid', label: 'API key SID', input: 'text', placeholder: 'SK…' },
    { name: 'apiKeySecret', label: 'API key secret', input: 'secret', boundTo: 'account SID, API key SID or base URL' },
    { name: 'from', label: 'From number', input: 'text', placeholder: '+15005550006', hint: 'A Twilio number, or leave blank and give a Messaging Service SID.' },
    { name: 'messagingServiceSid', label: 'Messaging Service SID', input: 'text', placeholder: 'MG…' },
    { name: 'baseUrl', label: 'Base URL', input: 'text', placeholder: 'https://api.twilio.com' },
    timeout('timeoutMs', 'Timeout', '10000'),
  ],
  cdyne: [
    { name: 'licenseKey', label: 'License key', input: 'secret', required: true, boundTo: 'base URL' },
    { name: 'from', label: 'From number', input: 'text', hint: 'Leave blank to let Cdyne choose one of your numbers.' },
    { name: 'baseUrl', label: 'Base URL', input: 'text', placeholder: 'https://messaging.cdyne.com' },
    timeout('timeoutMs', 'Timeout', '10000'),
  ],
  webhook: [
    { name: 'url', label: 'URL', input: 'text', required: true, placeholder: 'https://hooks.example.com/twofold', hint: 'https, or http to this host only.' },
    { name: 'secret', label: 'Signing secret', input: 'secret', required: true, hint: 'At least 16 characters, shared with the receiver.', boundTo: 'URL' },
    { name: 'channels', label: 'Carries', input: 'channels' },
    timeout('timeoutMs', 'Timeout', '10000'),
  ],
  console: [],
  file: [{ name: 'fileName', label: 'File name', input: 'text', placeholder: 'outbox.jsonl', hint: 'A plain name ending in .jsonl, written under the data directory.' }],
};

const CHANNEL_NAMES: Record<Channel, string> = { email: 'Email', sms: 'Text message' };
export const channelField = (channel: Channel) => `channels_${channel}`;

export interface ProviderFormView {
  mode: 'new' | 'edit';
  kind: ProviderKind;
  orgId: string;
  orgName: string;
  providerId?: string | undefined;
  name: string;
  /** Shown values of the non-secret fields, as the form holds them ('on' for a ticked box). */
  values: Record<string, string>;
  /** Edit only: the stored secrets, redacted ("••••abcd"). */
  secretHints: Record<string, string>;
}

export function ProviderFormPage(props: { chrome: PageChrome; view: ProviderFormView; error?: string | undefined }) {
  const v = props.view;
  const editing = v.mode === 'edit';
  const action = editing ? `/admin/services/providers/${v.providerId ?? ''}` : '/admin/services/providers';
  const back = `/admin/services?org=${encodeURIComponent(v.orgId)}`;
  return (
    <Layout {...props.chrome}>
      <AdminNav current="services" />
      <section class="card" aria-labelledby="provider-form-title">
        <h1 id="provider-form-title">{editing ? `Edit ${v.name}` : `New ${KIND_LABELS[v.kind]} provider`}</h1>
        <p class="lead">
          {KIND_DESCRIPTIONS[v.kind]} For {v.orgName}.
        </p>
        <ProviderInstructions kind={v.kind} />
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}
        <form method="post" action={action} autocomplete="off">
          <CsrfField token={props.chrome.csrf} />
          <input type="hidden" name="org" value={v.orgId} />
          <input type="hidden" name="kind" value={v.kind} />
          <label for="provider-name">Name</label>
          <input id="provider-name" name="name" type="text" required maxLength={80} value={v.name} placeholder={`${KIND_LABELS[v.kind]} provider`} />
          {PROVIDER_FORM_FIELDS[v.kind].map((field) => (
            <FieldInput key={field.name} field={field} value={v.values[field.name]} values={v.values} secretHint={editing ? v.secretHints[field.name] : undefined} editing={editing} />
          ))}
          <div class="actions">
            <button type="submit">{editing ? 'Save provider' : 'Add provider'}</button>
            <a class="button secondary" href={back}>
              Cancel
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}

function FieldInput(props: { field: ProviderFormField; value: string | undefined; values: Record<string, string>; secretHint: string | undefined; editing: boolean }) {
  const f = props.field;
  const id = `field-${f.name}`;
  const hintId = `${id}-hint`;
  const optional = f.required ? null : <span class="optional">(optional)</span>;
  if (f.input === 'checkbox') {
    return (
      <label class="check">
        <input type="checkbox" name={f.name} value="on" checked={props.value === 'on'} /> {f.label}
      </label>
    );
  }
  if (f.input === 'channels') {
    return (
      <fieldset class="choices">
        <legend>{f.label}</legend>
        {(['email', 'sms'] as const).map((channel) => (
          <label class="check" key={channel}>
            <input type="checkbox" name={channelField(channel)} value="on" checked={props.values[channelField(channel)] === 'on'} /> {CHANNEL_NAMES[channel]}
          </label>
        ))}
      </fieldset>
    );
  }
  // A stored secret is never sent back to the browser: the field starts blank and blank keeps it.
  const keepHint =
    f.input === 'secret' && props.editing
      ? props.secretHint
        ? `Leave blank to keep ${props.secretHint}${f.boundTo ? `; type it again if you change the ${f.boundTo}` : ''}.`
        : 'Not set.'
      : undefined;
  const hint = [f.hint, keepHint].filter((h) => h !== undefined).join(' ');
  const described = hint ? { 'aria-describedby': hintId } : {};
  return (
    <>
      <label for={id}>
        {f.label} {props.editing && f.input === 'secret' ? <span class="optional">(blank keeps it)</span> : optional}
      </label>
      {f.input === 'select' ? (
        <select id={id} name={f.name} required={f.required} {...described}>
          {(f.options ?? []).map((o) => (
            <option key={o.value} value={o.value} selected={props.value === o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : f.input === 'secret' ? (
        <input id={id} name={f.name} type="password" autocomplete="new-password" required={f.required === true && !props.editing} maxLength={2048} {...described} />
      ) : (
        <input
          id={id}
          name={f.name}
          type="text"
          value={props.value ?? ''}
          required={f.required}
          maxLength={2048}
          placeholder={f.placeholder}
          spellcheck={false}
          {...(f.input === 'number' ? { inputMode: 'numeric' } : {})}
          {...described}
        />
      )}
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </>
  );
}
