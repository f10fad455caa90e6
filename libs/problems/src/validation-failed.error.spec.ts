import { z } from 'zod';
import { ValidationFailedError } from './validation-failed.error';
import { ZodBody, ZodQuery } from './zod-body.pipe';

const createAppPassword = new ZodBody(
  z.object({
    name: z.string().min(1).max(64),
    protocols: z.array(z.enum(['imap', 'smtp', 'pop'])).min(1),
    device: z.strictObject({ 'os/version': z.string(), 'a~b': z.number() }).optional(),
  }),
);

function errorsOf(pipe: { transform(value: unknown): unknown }, value: unknown) {
  try {
    pipe.transform(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailedError);
    return (error as ValidationFailedError).errors;
  }
  throw new Error('expected the pipe to refuse the value');
}

describe('ZodBody', () => {
  it('passes a valid body through, parsed', () => {
    expect(createAppPassword.transform({ name: 'phone', protocols: ['imap'] })).toEqual({
      name: 'phone',
      protocols: ['imap'],
    });
  });

  it('points at each invalid member with a JSON pointer', () => {
    expect(errorsOf(createAppPassword, { name: '', protocols: ['imap', 'gopher'] })).toEqual([
      { pointer: '/name', message: expect.stringMatching(/>=1 characters/) },
      { pointer: '/protocols/1', message: expect.stringMatching(/expected one of/) },
    ]);
  });

  it('refuses unknown members at the top level, one pointer each', () => {
    expect(
      errorsOf(createAppPassword, { name: 'phone', protocols: ['imap'], tenantId: 'x', admin: true }),
    ).toEqual([
      { pointer: '/tenantId', message: 'is not allowed' },
      { pointer: '/admin', message: 'is not allowed' },
    ]);
  });

  it('escapes "/" and "~" in member names (RFC 6901)', () => {
    const errors = errorsOf(createAppPassword, {
      name: 'phone',
      protocols: ['imap'],
      device: { 'os/version': 1, 'a~b': 2 },
    });
    expect(errors).toEqual([{ pointer: '/device/os~1version', message: expect.any(String) }]);
  });

  it('points at the whole body when it is not an object', () => {
    expect(errorsOf(createAppPassword, undefined)).toEqual([{ pointer: '', message: expect.any(String) }]);
    expect(errorsOf(createAppPassword, [1, 2])).toEqual([{ pointer: '', message: expect.any(String) }]);
  });

  it('never echoes a submitted value', () => {
    const errors = errorsOf(createAppPassword, { name: 'hunter2'.repeat(20), protocols: 'hunter2' });
    expect(JSON.stringify(errors)).not.toContain('hunter2');
  });
});

describe('ZodQuery', () => {
  it('names the query parameter', () => {
    const pipe = new ZodQuery(z.object({ limit: z.coerce.number().int().max(100) }));
    expect(errorsOf(pipe, { limit: '1000' })).toEqual([{ parameter: 'limit', message: expect.any(String) }]);
    expect(pipe.transform({ limit: '10' })).toEqual({ limit: 10 });
  });
});
