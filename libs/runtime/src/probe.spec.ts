import { describeFailure, withTimeout } from './probe';

describe('describeFailure', () => {
  it('keeps the first line of a message, short', () => {
    expect(describeFailure(new Error(`refused\n${'x'.repeat(500)}`))).toBe('refused');
    expect(describeFailure(new Error('y'.repeat(500)))).toHaveLength(200);
  });

  it('explains an AggregateError with an empty message by its inner errors', () => {
    const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' });
    const error = new AggregateError([refused, new Error('connect ECONNREFUSED ::1:5432')], '');
    expect(describeFailure(error)).toBe('ECONNREFUSED; connect ECONNREFUSED ::1:5432');
  });

  it('says nothing of a thrown non-error', () => {
    expect(describeFailure({ password: 'hunter2' })).toBe('unavailable');
  });
});

describe('withTimeout', () => {
  it('rejects when the work does not settle in time, and passes results through', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20)).rejects.toThrow('no answer within 20 ms');
    await expect(withTimeout(Promise.resolve(7), 20)).resolves.toBe(7);
  });
});
