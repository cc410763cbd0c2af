import { Injectable } from '@nestjs/common';

/** Time source for rules with windows (edit/delete, username cooldown); tests replace it. */
@Injectable()
export class Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  /** test hook: move this clock forward */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  reset(): void {
    this.offsetMs = 0;
  }
}
