import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Attribute, Change, Client, NoSuchObjectError } from 'ldapts';

/**
 * For integration tests: the stack's Samba AD DC, and its domain Administrator playing the
 * on-premises admin who creates, disables, renames and deletes users over LDAPS.
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (test/load-env.ts reads .env and .env.example)`);
  return value;
};

export const samba = () => ({
  url: env('LDAP_URL'),
  caPem: readFileSync(resolve(__dirname, '../../../..', env('LDAP_CA_FILE')), 'utf8'),
  baseDn: env('LDAP_BASE_DN'),
  usersOu: env('LDAP_USERS_OU'),
  realm: env('SAMBA_REALM'),
  /** The sync worker's least-privilege account, with the rights DirSync needs. */
  sync: { bindDn: env('LDAP_BIND_DN'), bindPassword: env('LDAP_BIND_PASSWORD') },
});

export function ldapsClient(): Client {
  const { url, caPem } = samba();
  return new Client({ url, tlsOptions: { ca: [caPem] }, connectTimeout: 5_000, timeout: 30_000 });
}

const NORMAL_ACCOUNT = 0x200; // 512: enabled
const ACCOUNT_DISABLE = 0x2;

/** AD takes a password as the UTF-16LE encoding of the password in double quotes, over TLS only. */
const unicodePwd = (password: string): Buffer => Buffer.from(`"${password}"`, 'utf16le');

export class SambaAdmin {
  private constructor(private readonly client: Client) {}

  static async connect(): Promise<SambaAdmin> {
    const client = ldapsClient();
    await client.bind(`Administrator@${samba().realm}`, env('SAMBA_ADMIN_PASSWORD'));
    return new SambaAdmin(client);
  }

  /** An enabled user; returns its password (random unless given). */
  async createUser(dn: string, sam: string, upn: string, password?: string): Promise<string> {
    const secret = password ?? `Usn-${randomBytes(6).toString('hex')}-1a!`;
    await this.client.add(dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [sam] }),
      new Attribute({ type: 'userPrincipalName', values: [upn] }),
      new Attribute({ type: 'unicodePwd', values: [unicodePwd(secret)] }),
      new Attribute({ type: 'userAccountControl', values: [String(NORMAL_ACCOUNT)] }),
    ]);
    return secret;
  }

  setDisabled(dn: string, disabled: boolean): Promise<void> {
    const uac = disabled ? NORMAL_ACCOUNT | ACCOUNT_DISABLE : NORMAL_ACCOUNT;
    return this.replace(dn, 'userAccountControl', String(uac));
  }

  /** A helpdesk reset: the Administrator sets a new password (AD then moves pwdLastSet to now). */
  setPassword(dn: string, password: string): Promise<void> {
    return this.client.modify(
      dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }),
      }),
    );
  }

  setUpn(dn: string, upn: string): Promise<void> {
    return this.replace(dn, 'userPrincipalName', upn);
  }

  async deleteIfPresent(dn: string): Promise<void> {
    try {
      await this.client.del(dn);
    } catch (error) {
      if (!(error instanceof NoSuchObjectError)) throw error;
    }
  }

  close(): Promise<void> {
    return this.client.unbind();
  }

  private replace(dn: string, type: string, value: string): Promise<void> {
    return this.client.modify(
      dn,
      new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }),
    );
  }
}
