import { noticesDue } from '../core/sign-in-notices.js';
import type { RequestMeta } from './context.js';
import type { Recognition, Remembered } from './devices.js';
import type { Notifier } from './messaging/notifier.js';
import type { SecurityCentre } from './security-centre.js';
import { describeDevice } from './security-centre.js';
import type { Principal } from './principal.js';

export type BlockedBy = 'device' | 'location';

/**
 * The emails a sign-in earns: a completed sign-in from a new device or a new location (as the
 * user's settings allow), and every attempt from a blocked device or location. Each is sent after
 * the sign-in (or the refusal) has been recorded, and names the time in the user's zone, the
 * device, the address and the place, with a link to the security centre (the notifier adds the
 * time, the address and the link).
 */
export class SignInNotices {
  constructor(
    private readonly notifier: Notifier,
    private readonly centre: SecurityCentre,
  ) {}

  async signedIn(user: Principal, seen: Remembered, meta: RequestMeta): Promise<void> {
    const due = noticesDue(seen, await this.centre.notificationPreferences(user.id));
    if (!due.newDevice && !due.newLocation) return;
    const what = due.newDevice && due.newLocation ? 'a new device and location' : due.newDevice ? 'a new device' : 'a new location';
    await this.notifier.notify(
      user,
      {
        title: `New sign-in from ${what}`,
        lines: [
          ...(await this.whereFrom(meta)),
          ['What to do', 'If this was you, there is nothing to do. If not, change your password and block the device or location in your security centre.'],
        ],
      },
      meta,
    );
  }

  /** Always sent: the person the block was meant to stop is trying to get in. */
  async blockedAttempt(user: Principal, blockedBy: BlockedBy, recognition: Recognition, meta: RequestMeta): Promise<void> {
    await this.notifier.notify(
      user,
      {
        title: `A sign-in from a blocked ${blockedBy} was refused`,
        lines: [
          ...(await this.whereFrom(meta, recognition.device?.label)),
          ['What happened', `Someone tried to sign in to your account from a ${blockedBy} you blocked. They were stopped before the password was checked.`],
          ['What to do', 'If this was not you, consider changing your password. You can unblock the device or location in your security centre.'],
        ],
      },
      meta,
    );
  }

  private async whereFrom(meta: RequestMeta, label?: string): Promise<Array<readonly [string, string]>> {
    const place = await this.centre.place(meta.ip);
    return [
      ['Device', label ?? describeDevice(meta.userAgent).label],
      ['Location', place?.label ?? 'Unknown'],
    ];
  }
}
