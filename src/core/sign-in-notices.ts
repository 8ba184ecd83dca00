/** What a completed sign-in taught the device and location lists. */
export interface SignInNovelty {
  newDevice: boolean;
  newLocation: boolean;
  /** The user had no device before: every first sign-in is "new", and saying so tells nothing. */
  firstDevice: boolean;
  firstLocation: boolean;
}

export interface NoticePreferences {
  newDevice: boolean;
  newLocation: boolean;
}

export interface NoticesDue {
  newDevice: boolean;
  newLocation: boolean;
}

/**
 * Which "new sign-in" notices a completed sign-in earns. The very first device or location of an
 * account is not news. Attempts from blocked devices and locations are not decided here: they
 * always notify, whatever the preferences say.
 */
export function noticesDue(novelty: SignInNovelty, preferences: NoticePreferences): NoticesDue {
  return {
    newDevice: novelty.newDevice && !novelty.firstDevice && preferences.newDevice,
    newLocation: novelty.newLocation && !novelty.firstLocation && preferences.newLocation,
  };
}
