import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEV_PRIVATE_KEY_FILE, DEV_PUBLIC_KEY_FILE } from '@latchkey/config';

export interface DevKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** The development ES256 pair in `dir` (the config's default names), created if missing. */
export function ensureDevKeyPair(dir: string): DevKeyFiles {
  return ensureDevKeys({
    privateKeyFile: join(dir, basename(DEV_PRIVATE_KEY_FILE)),
    publicKeyFile: join(dir, basename(DEV_PUBLIC_KEY_FILE)),
  });
}

/**
 * Creates the development ES256 key pair if missing; idempotent and safe when several processes
 * (parallel test workers, the CLI and the API) race. The private key is published with link(2),
 * which fails instead of overwriting, so exactly one generated key wins; the public key is derived
 * from whichever private key won, so racing writers write the same bytes. An existing public key
 * is replaced only when this call created the private key (it is then stale): otherwise it may be
 * a key somebody configured on purpose.
 */
export function ensureDevKeys(files: DevKeyFiles): DevKeyFiles {
  let created = false;
  if (!existsSync(files.privateKeyFile)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    created = publishOnce(files.privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  }
  if (created || !existsSync(files.publicKeyFile)) {
    replaceAtomically(files.publicKeyFile, devPublicKeyPem(files.privateKeyFile), 0o644);
  }
  return files;
}

/** The public half of the development private key, as SPKI PEM. */
export function devPublicKeyPem(privateKeyFile: string): string {
  return createPublicKey(createPrivateKey(readFileSync(privateKeyFile)))
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** True if this process published `file`; false if another got there first. */
function publishOnce(file: string, content: string | Buffer, mode: number): boolean {
  const temp = writeTemp(file, content, mode);
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

function replaceAtomically(file: string, content: string, mode: number): void {
  renameSync(writeTemp(file, content, mode), file);
}

function writeTemp(file: string, content: string | Buffer, mode: number): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, content, { mode, flag: 'wx' });
  return temp;
}
