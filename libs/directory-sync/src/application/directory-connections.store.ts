import { Injectable } from '@nestjs/common';
import { BindPasswordCipher } from '@latchkey/directory';
import { DataSource, type EntityManager } from 'typeorm';

export interface DirectoryConnection {
  tenantId: string;
  url: string;
  caPem: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
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
      `INSERT INTO directory_connections (tenant_id, url, ca_pem, bind_dn, sealed_bind_password, base_dn, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id) DO UPDATE SET url = $2, ca_pem = $3, bind_dn = $4, sealed_bind_password = $5,
         base_dn = $6, updated_at = $7`,
      [
        connection.tenantId,
        connection.url,
        connection.caPem,
        connection.bindDn,
        this.cipher.encrypt(connection.bindPassword, connection.tenantId),
        connection.baseDn,
        now,
      ],
    );
  }

  async find(tenantId: string): Promise<DirectoryConnection | undefined> {
    const [row] = await this.db.query(
      `SELECT tenant_id, url, ca_pem, bind_dn, sealed_bind_password, base_dn FROM directory_connections
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
    };
  }

  async tenants(): Promise<string[]> {
    const rows: { tenant_id: string }[] = await this.db.query(`SELECT tenant_id FROM directory_connections`);
    return rows.map((r) => r.tenant_id);
  }
}
