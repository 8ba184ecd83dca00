import type { ComponentChildren } from 'preact';

/** A phone approval on its way: what the asking page shows while the person picks the number on the phone. */
export interface PendingApproval {
  requestId: string;
  number: number;
  approver: string;
  pushed: boolean;
}

/**
 * The number to tap, the live outcome line the page script fills in, and the fields that submit
 * the approval as the `push` method. Sign-in, re-authentication and Deploy Now show the same
 * prompt; `sent` says what went to the phone, `intro` says where to tap (the sign-in page has
 * it in its heading already).
 */
export function ApprovalPrompt(props: { approval: PendingApproval; sent: string; intro?: boolean; describedBy?: string }) {
  const a = props.approval;
  return (
    <>
      {props.intro === false ? null : <p class="muted">On {a.approver}, tap this number:</p>}
      <p class="approval-number" data-testid="approval-number" aria-describedby={props.describedBy}>
        {a.number}
      </p>
      <p class="muted" data-approval-outcome role="status" aria-live="polite">
        {a.pushed ? `${props.sent} ` : 'Open the approvals page on your phone to see the request. '}It expires in a minute.
      </p>
      <input type="hidden" name="method" value="push" />
      <input type="hidden" name="code" value={a.requestId} />
    </>
  );
}

/**
 * One "Approve on <phone>" button per paired phone, each posting its own form to `action` with
 * `fields` (the form token and what the approval is for). Sign-in makes it the main button;
 * re-authentication and Deploy Now show it beside other ways, as a secondary one.
 */
export function ApproveOnPhoneButtons(props: { approvers: ReadonlyArray<{ id: string; name: string }>; action: string; fields: ComponentChildren; secondary?: boolean }) {
  return (
    <>
      {props.approvers.map((a) => (
        <form key={a.id} method="post" action={props.action} class="send">
          {props.fields}
          <input type="hidden" name="approverId" value={a.id} />
          <button type="submit" class={props.secondary ? 'secondary' : undefined}>
            Approve on {a.name}
          </button>
        </form>
      ))}
    </>
  );
}
