/**
 * Where a uSNChanged poll stopped: every change up to `usn` on the database of the domain controller
 * whose invocationId this is has been read. USNs are per DC database, and a DC restored from backup
 * (or another DC) reuses USNs under a new invocationId, so a watermark of another invocationId says
 * nothing about the current one: the next read starts again from USN 0 (a full resync).
 */
export interface UsnWatermark {
  /** The DC database's invocationId (NTDS Settings), as a canonical lower-case GUID. */
  invocationId: string;
  /** The highest USN already read (highestCommittedUSN when the read began). */
  usn: bigint;
}

/**
 * Stored in `directory_sync_cookies.cookie` as UTF-8 JSON:
 * `{"format":"latchkey.usn-watermark","v":1,"invocationId":"<guid>","usn":"<decimal>"}`.
 * The format name keeps a DirSync cookie (binary, starting `MSDS`) from ever passing for a
 * watermark; the version lets the shape change later. The USN is a decimal string because AD's
 * USNs are 64-bit and JSON numbers are not.
 */
const FORMAT = 'latchkey.usn-watermark';
const VERSION = 1;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USN = /^\d{1,19}$/;
const MAX_USN = 2n ** 63n - 1n; // AD's USN is a signed 64-bit integer
const MAX_ENCODED_BYTES = 256;

export function encodeUsnWatermark(watermark: UsnWatermark): Buffer {
  if (!GUID.test(watermark.invocationId)) throw new Error('invocationId must be a canonical GUID');
  if (watermark.usn < 0n || watermark.usn > MAX_USN) throw new Error('usn must be a 64-bit USN');
  const { invocationId, usn } = watermark;
  return Buffer.from(JSON.stringify({ format: FORMAT, v: VERSION, invocationId, usn: usn.toString() }));
}

/**
 * The watermark in a stored cookie, or `undefined` when there is none or it is not one (empty, a
 * DirSync cookie, another version, damaged): the caller then reads everything again, which costs a
 * full resync but never skips a change.
 */
export function decodeUsnWatermark(cookie: Buffer | undefined): UsnWatermark | undefined {
  if (!cookie || cookie.length === 0 || cookie.length > MAX_ENCODED_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cookie.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { format, v, invocationId, usn } = parsed as Record<string, unknown>;
  if (format !== FORMAT || v !== VERSION) return undefined;
  if (typeof invocationId !== 'string' || !GUID.test(invocationId)) return undefined;
  if (typeof usn !== 'string' || !USN.test(usn) || BigInt(usn) > MAX_USN) return undefined;
  return { invocationId, usn: BigInt(usn) };
}

/**
 * A binary GUID (invocationId, objectGUID) in Microsoft's layout, the first three groups
 * little-endian, as the canonical lower-case string that `Get-ADDomainController` shows.
 */
export function guidString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error('a GUID is 16 bytes');
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = bytes.subarray(from, to);
    return Buffer.from(reverse ? [...part].reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}
