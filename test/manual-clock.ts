import { Clock } from '@latchkey/app-passwords';

/** The service's time held still and moved on by the test, so that every step has an instant of its own. */
export class ManualClock extends Clock {
  private current = new Date(Math.floor(Date.now() / 1000) * 1000);
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
