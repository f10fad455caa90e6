import { Injectable } from '@nestjs/common';
import { BindPasswordCipher, type ChangeDetection } from '@latchkey/directory';
import { DataSource, type EntityManager } from 'typeorm';

export interface DirectoryConnection {
  tenantId: string;
  url: string;
  caPem: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  /** An identity allowed to disable and delete users (HR offboarding writes to AD), if any. */
  writeBindDn?: string;
  writeBindPassword?: string;
  /** DirSync, uSNChanged polling, or DirSync with polling when the directory refuses it. */
  changeDetection: ChangeDetection;
}

/** The connections table: the only place a bind password is kept, sealed (see BindPasswordCipher). */
@Injectable()
export class DirectoryConnectionsStore {
  constructor(
    private readonly db: DataSource,
    private readonly cipher: BindPasswordCipher,
  ) {}

  async save(tx: EntityManager, connection: DirectoryConnection, now: Date): Promise<void> {
    await tx.query(
      `INSERT INTO directory_connections (tenant_id, url, ca_pem, bind_dn, sealed_bind_password, base_dn, updated_at,
         write_bind_dn, sealed_write_bind_password, change_detection)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id) DO UPDATE SET url = $2, ca_pem = $3, bind_dn = $4, sealed_bind_password = $5,
         base_dn = $6, updated_at = $7, write_bind_dn = $8, sealed_write_bind_password = $9,
         change_detection = $10`,
      [
        connection.tenantId,
        connection.url,
        connection.caPem,
        connection.bindDn,
        this.cipher.encrypt(connection.bindPassword, connection.tenantId),
        connection.baseDn,
        now,
        connection.writeBindDn ?? null,
        connection.writeBindDn && connection.writeBindPassword
          ? this.cipher.encrypt(connection.writeBindPassword, writeContext(connection.tenantId))
          : null,
        connection.changeDetection,
      ],
    );
  }

  async find(tenantId: string): Promise<DirectoryConnection | undefined> {
    const [row] = await this.db.query(
      `SELECT tenant_id, url, ca_pem, bind_dn, sealed_bind_password, base_dn, write_bind_dn,
         sealed_write_bind_password, change_detection
       FROM directory_connections
       WHERE tenant_id = $1`,
      [tenantId],
    );
    if (!row) return undefined;
    return {
      tenantId: row.tenant_id,
      url: row.url,
      caPem: row.ca_pem,
      bindDn: row.bind_dn,
      bindPassword: this.cipher.decrypt(row.sealed_bind_password, row.tenant_id),
      baseDn: row.base_dn,
      changeDetection: row.change_detection,
      ...(row.write_bind_dn && row.sealed_write_bind_password
        ? {
            writeBindDn: row.write_bind_dn,
            writeBindPassword: this.cipher.decrypt(
              row.sealed_write_bind_password,
              writeContext(row.tenant_id),
            ),
          }
        : {}),
    };
  }

  async tenants(): Promise<string[]> {
    const rows: { tenant_id: string }[] = await this.db.query(`SELECT tenant_id FROM directory_connections`);
    return rows.map((r) => r.tenant_id);
  }
}

/** Sealed under another context than the read credential, so the two ciphertexts cannot be swapped. */
const writeContext = (tenantId: string) => `write:${tenantId}`;
