/** A clock tests can move: starts at real time so TOTP codes from oathtool-style helpers line up. */
export class TestClock {
  constructor(private ms = Date.now()) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
