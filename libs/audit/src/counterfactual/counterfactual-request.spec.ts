import { counterfactualRequest, MAX_PERIOD_DAYS } from './counterfactual-request';

const FROM = '2025-03-01T00:00:00Z';
const TO = '2025-03-02T00:00:00Z';
const refused = (body: unknown) => !counterfactualRequest.safeParse(body).success;

describe('B5: the counterfactual question', () => {
  it('B5: fills the model’s defaults exactly as a directory connection does (R8)', () => {
    const parsed = counterfactualRequest.parse({ from: FROM, to: TO, model: { kind: 'cycle' } });
    expect(parsed.model).toEqual({
      kind: 'cycle',
      intervalMs: 30 * 60_000,
      anchor: '1970-01-01T00:00:00.000Z',
      processingMs: 2 * 60_000,
      maxDelayMs: 3 * 3_600_000,
    });
    expect(parsed.from).toEqual(new Date(FROM));
  });

  it.each([
    ['a bad instant', { from: '2025-02-30T00:00:00Z', to: TO, model: { kind: 'worst-case' } }],
    ['an instant without offset', { from: '2025-03-01T00:00:00', to: TO, model: { kind: 'worst-case' } }],
    ['from equal to to', { from: FROM, to: FROM, model: { kind: 'worst-case' } }],
    ['from after to', { from: TO, to: FROM, model: { kind: 'worst-case' } }],
    [
      `a period over ${MAX_PERIOD_DAYS} days`,
      {
        from: FROM,
        to: new Date(Date.parse(FROM) + (MAX_PERIOD_DAYS + 1) * 86_400_000).toISOString(),
        model: { kind: 'worst-case' },
      },
    ],
    ['an unknown kind', { from: FROM, to: TO, model: { kind: 'instant' } }],
    ['a negative duration', { from: FROM, to: TO, model: { kind: 'fixed', delayMs: -1 } }],
    ['a field of another kind', { from: FROM, to: TO, model: { kind: 'fixed', delayMs: 1, seed: 3 } }],
    ['a model that is not an object', { from: FROM, to: TO, model: 'fixed' }],
    ['an unknown member', { from: FROM, to: TO, model: { kind: 'worst-case' }, tenantId: 'x' }],
  ])('B5: refuses %s', (_, body) => expect(refused(body)).toBe(true));
});
