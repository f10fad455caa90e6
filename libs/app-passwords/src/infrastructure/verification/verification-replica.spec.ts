import type { DataSource } from 'typeorm';
import { VerificationReplica } from './verification-replica';

/** What `settled` promises an acknowledgement: in order, and never held back by later verifications. */
describe('VerificationReplica: verifications in flight and acknowledgements', () => {
  const replica = () => new VerificationReplica({} as DataSource);
  const state = (promise: Promise<void>) => {
    const seen = { resolved: false };
    void promise.then(() => (seen.resolved = true));
    return seen;
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('nothing in flight: an acknowledgement need not wait', () => {
    expect(replica().settled()).toBeUndefined();
  });

  it('waits for the verifications begun before it, and not for those begun after, under endless load', async () => {
    const memory = replica();
    const first = memory.beginVerification();
    const settledA = state(memory.settled()!);
    // Verifications keep arriving after the invalidation: none of them may hold it back.
    const second = memory.beginVerification();
    await tick();
    expect(settledA.resolved).toBe(false);
    memory.endVerification(first);
    await tick();
    expect(settledA.resolved).toBe(true);

    const settledB = state(memory.settled()!);
    const third = memory.beginVerification();
    await tick();
    expect(settledB.resolved).toBe(false); // `second` began before it and still runs
    memory.endVerification(second);
    await tick();
    expect(settledB.resolved).toBe(true);
    memory.endVerification(third);
    expect(memory.settled()).toBeUndefined();
  });

  it('two invalidations while the same verification runs: both wait for it, and are released together', async () => {
    const memory = replica();
    const ticket = memory.beginVerification();
    const a = state(memory.settled()!);
    const b = state(memory.settled()!);
    await tick();
    expect([a.resolved, b.resolved]).toEqual([false, false]);
    memory.endVerification(ticket);
    await tick();
    expect([a.resolved, b.resolved]).toEqual([true, true]);
  });
});
