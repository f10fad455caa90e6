import assert from 'node:assert/strict';
import { Decider, foldEvents } from '../decider';
import { DomainError } from '../domain-error';

/**
 * Given events, when a command, then events or a refusal — after oskardudycz/EventSourcing.NodeJS
 * samples/decider/src/testing/unit/specification.ts. State is only ever built by folding events.
 * node:assert rather than Jest's expect, so this file compiles in the production build too.
 */
export const DeciderSpecification = {
  for:
    <Command, State, Event>(decider: Decider<Command, State, Event>) =>
    (...given: Event[]) => ({
      when: (command: Command) => {
        const handle = (): Event[] => decider.decide(command, foldEvents(decider, given));
        return {
          then: (...expected: Event[]): void => assert.deepStrictEqual(handle(), expected),
          thenNothing: (): void => assert.deepStrictEqual(handle(), []),
          /** The refusal's class and stable code; returns it for further checks. */
          thenRefuses: (
            errorClass: abstract new (...args: never[]) => DomainError,
            code: string,
          ): DomainError => {
            let refusal: unknown;
            try {
              handle();
            } catch (error) {
              refusal = error;
            }
            assert.ok(refusal instanceof errorClass, `expected a ${errorClass.name}, got ${String(refusal)}`);
            assert.equal(refusal.code, code);
            return refusal;
          },
          /** The events, for assertions the exact-match `then` cannot express. */
          events: handle,
        };
      },
    }),
};
