/**
 * Phone approvals with number matching (issue 19), the pure part: the number a sign-in shows,
 * the choices the phone offers, the exact bytes a phone signs, and when push pauses.
 *
 * The phone signs `signedApprovalMessage(...)` with its device key (ECDSA P-256, SHA-256). The
 * message names the request, the server's random challenge for it and what the approval unlocks
 * (`binding`: one sign-in flow, one session's step-up, one deployment and its digest), so a
 * signature fits exactly one request and one use.
 */

export const APPROVAL_DECISIONS = ['approve', 'deny', 'report'] as const;
/** `report`: "This wasn't me" (ends the flow and tells the owner). */
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** How long a phone has to answer. Short, so a prompt is either answered now or gone. */
export const APPROVAL_LIFETIME_MS = 60_000;
/** How long after the phone's approval the waiting browser may still use it. */
export const APPROVAL_USE_WINDOW_MS = 2 * 60_000;
/** Denials in a row that pause push for an account (and tell its owner). */
export const DENIALS_BEFORE_PAUSE = 3;
/** How many numbers the phone offers: the right one among decoys. */
export const CHOICE_COUNT = 3;

export function isApprovalDecision(value: string): value is ApprovalDecision {
  return (APPROVAL_DECISIONS as readonly string[]).includes(value);
}

/**
 * A two-digit number (10 to 99) and the choices the phone shows: distinct, the right one among
 * them at a random place. `random(n)` returns an integer in [0, n) (crypto.randomInt in services).
 */
export function numberAndChoices(random: (n: number) => number): { number: number; choices: number[] } {
  const number = 10 + random(90);
  const choices = [number];
  while (choices.length < CHOICE_COUNT) {
    const candidate = 10 + random(90);
    if (!choices.includes(candidate)) choices.push(candidate);
  }
  // Fisher-Yates, so the right number is not always first.
  for (let i = choices.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [choices[i], choices[j]] = [choices[j]!, choices[i]!];
  }
  return { number, choices };
}

/** The exact text a phone signs for a decision; `number` is null for deny and report. */
export function signedApprovalMessage(input: { requestId: string; challenge: string; binding: string; number: number | null; decision: ApprovalDecision }): string {
  return ['twofold-approval-v1', input.requestId, input.challenge, input.binding, input.number === null ? '-' : String(input.number), input.decision].join('\n');
}

/** The text a phone signs to list its pending requests: its id and the time, so an old signature soon stops working. */
export function signedListingMessage(deviceId: string, timestampMs: number): string {
  return ['twofold-approver-list-v1', deviceId, String(timestampMs)].join('\n');
}

/** How far a listing's timestamp may be from the server's clock. */
export const LISTING_SKEW_MS = 2 * 60_000;

/** Whether the latest decisions (newest first) are `DENIALS_BEFORE_PAUSE` denials in a row. */
export function denialsInARow(latestFirst: readonly string[]): number {
  let n = 0;
  for (const state of latestFirst) {
    if (state !== 'denied' && state !== 'reported') break;
    n++;
  }
  return n;
}

/** The binding of a sign-in flow's approval. */
export function signInBinding(flowId: string): string {
  return `sign_in:${flowId}`;
}

/** The binding of a step-up's approval: one session's re-authentication, nothing else. */
export function reauthBinding(sessionId: string): string {
  return `reauthentication:session:${sessionId}`;
}

/**
 * The binding of a deploy's approval: one target and the digest of exactly the bundle reviewed.
 * The phone signs it, so its signature approves that bundle and no other.
 */
export function deployBinding(targetId: string, digest: string): string {
  return `deploy:target:${targetId}:digest:${digest}`;
}
