import { Ber, BerReader, BerWriter, Control } from 'ldapts';

/**
 * Flags of the DirSync request ([MS-ADTS] 3.1.1.3.4.1.3). Combine with `|`.
 */
export const DirSyncFlags = {
  /** Return only objects and attributes the caller may read (no "Replicating Directory Changes" needed). */
  ObjectSecurity: 0x1,
  /** Return parents before their children. */
  AncestorsFirstOrder: 0x800,
  /** Leave out secret attributes (passwords and the like). */
  PublicDataOnly: 0x2000,
  /** Return only the added/removed values of multi-valued attributes (e.g. `member`) instead of all values. */
  IncrementalValues: 0x80000000,
} as const;

export interface DirSyncControlOptions {
  /** Cookie from the previous DirSync search; omit (or empty) for a full snapshot. */
  cookie?: Buffer;
  /** Bit mask of {@link DirSyncFlags}; 0 by default. */
  flags?: number;
  /** Largest response the server should send in one search; the server caps it anyway. */
  maxBytes?: number;
}

/**
 * The Active Directory DirSync control (LDAP_SERVER_DIRSYNC_OID), as used by Entra Connect to
 * read what changed in a naming context since a cookie.
 *
 * Usage: pass one instance to `client.search(namingContextDN, options, [control])`, searching the
 * whole naming context (subtree). When the search resolves, the same instance holds the server's
 * answer: `cookie` is the new cookie, `moreResults` says whether to search again (with the same
 * instance, which now sends the new cookie) before the delta is complete. Persist `cookie` to
 * continue from there next time.
 *
 * This relies on ldapts handing a response control with an OID it does not know to the request
 * control whose `responseType` matches, so `parseControl` runs on this very instance.
 *
 * Without the `ObjectSecurity` flag the bound account needs the "Replicating Directory Changes"
 * extended right on the naming context root. The control is sent as critical, as AD requires.
 */
export class DirSyncControl extends Control {
  static readonly type = '1.2.840.113556.1.4.841';

  /** The cookie sent with the next search; replaced by the server's cookie after each search. */
  cookie: Buffer;

  /** True when the server has more changes than it sent: search again before storing the cookie as "caught up". */
  moreResults = false;

  /** The last search's response carried this control: without it, its cookie and moreResults are unknown. */
  answered = false;

  readonly flags: number;
  readonly maxBytes: number;

  constructor(options: DirSyncControlOptions = {}) {
    super(DirSyncControl.type, { critical: true });
    this.cookie = options.cookie ?? Buffer.alloc(0);
    this.flags = options.flags ?? 0;
    // Like ldap3 and System.DirectoryServices: ask for as much as the server will give.
    this.maxBytes = options.maxBytes ?? 0x7fffffff;
  }

  /**
   * Request value: SEQUENCE { flags INTEGER, maxBytes INTEGER, cookie OCTET STRING },
   * BER-encoded and wrapped in the control's OCTET STRING value.
   */
  protected override writeControl(writer: BerWriter): void {
    // A response that carries no DirSync control must not leave a stale "more" behind.
    this.moreResults = false;
    this.answered = false;

    const value = new BerWriter();
    value.startSequence();
    // `| 0` maps the unsigned mask onto int32, so IncrementalValues (bit 31) goes out as the
    // 4-byte negative INTEGER that AD expects rather than a 5-byte positive one.
    value.writeInt(this.flags | 0);
    value.writeInt(this.maxBytes);
    value.writeBuffer(this.cookie, Ber.OctetString);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  /**
   * Response value: SEQUENCE { moreResults INTEGER, unused INTEGER, cookie OCTET STRING }.
   * The reader is positioned on the value's contents (ldapts has unwrapped the OCTET STRING).
   */
  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence() === null) {
      return;
    }
    this.answered = true;
    this.moreResults = (reader.readInt() ?? 0) !== 0;
    reader.readInt(); // "unused" in [MS-ADTS]; always 0
    const cookie = reader.readString(Ber.OctetString, true);
    // Copy: the reader hands out a view into the whole response message's buffer.
    if (cookie !== null) {
      this.cookie = Buffer.from(cookie);
    }
  }
}
