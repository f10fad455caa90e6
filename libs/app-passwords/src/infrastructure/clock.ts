/** Time comes from here, never from `new Date()` in a handler, so tests can hold or move it. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
