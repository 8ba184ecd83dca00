import type { ComponentChildren } from 'preact';

/**
 * The parts every code form shares (re-authentication, Deploy Now, deployers).
 *
 * The "which method" choice of a code form (re-authentication, Deploy Now, deployers): a select
 * when there is a choice, a hidden field when there is one method, so the form always says which
 * method the code is for.
 */
export function MethodSelect(props: { id: string; methods: ReadonlyArray<{ method: string; label: string }>; selected?: string | undefined; always?: boolean }) {
  if (props.methods.length > 1 || props.always === true) {
    return (
      <>
        <label for={props.id}>Method</label>
        <select id={props.id} name="method">
          {props.methods.map((m) => (
            <option key={m.method} value={m.method} selected={m.method === props.selected}>
              {m.label}
            </option>
          ))}
        </select>
      </>
    );
  }
  return <input type="hidden" name="method" value={props.methods[0]?.method ?? 'totp'} />;
}

/**
 * One small form per text or email method: "Send me a code by …". `fields` are the hidden
 * fields the send must carry (the form token, and what the code will be for).
 */
export function SendCodeForms(props: { action: string; methods: ReadonlyArray<{ method: string; label: string }>; fields: ComponentChildren }) {
  return (
    <>
      {props.methods.map((m) => (
        <form method="post" action={props.action} class="send-code" key={m.method}>
          {props.fields}
          <input type="hidden" name="method" value={m.method} />
          <button type="submit" class="secondary">
            Send me a code by {m.label}
          </button>
        </form>
      ))}
    </>
  );
}
