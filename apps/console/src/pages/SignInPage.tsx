import { useId, useState, type FormEvent } from 'react';
import type { ConsoleConfig } from '../api';
import { beginOidcSignIn, devSignIn, saveSession, type DevRole, type Session } from '../auth';
import { PageTitle, ProblemMessage, Section } from '../ui';

export function SignInPage({
  config,
  onSignedIn,
}: {
  config: ConsoleConfig;
  onSignedIn: (s: Session) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [role, setRole] = useState<DevRole>('user');
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const roleId = useId();
  const userId = useId();

  const submitDev = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await devSignIn(role, username);
      saveSession(session);
      onSignedIn(session);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle>Sign in</PageTitle>
      <ProblemMessage error={error} />
      {config.oidc ? (
        <Section title="With your organisation's account" id="oidc-sign-in">
          <button type="button" onClick={() => beginOidcSignIn(config.oidc!).catch(setError)}>
            Sign in with your organisation
          </button>
        </Section>
      ) : null}
      {config.devSignIn ? (
        <Section title="Development sign-in (demo tenant)" id="dev-sign-in">
          <p className="hint">
            Enabled by <code>CONSOLE_DEV_SIGN_IN</code>: a 15-minute token for the demo tenant, signed with
            the development key. Never available in production.
          </p>
          <form onSubmit={submitDev}>
            <label htmlFor={roleId}>Role</label>
            <select id={roleId} value={role} onChange={(e) => setRole(e.target.value as DevRole)}>
              <option value="user">User</option>
              <option value="tenant-admin">Tenant admin</option>
              <option value="auditor">Auditor</option>
            </select>
            {role === 'user' ? (
              <>
                <label htmlFor={userId}>Username</label>
                <input
                  id={userId}
                  type="email"
                  autoComplete="username"
                  required
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                />
              </>
            ) : null}
            <button type="submit" disabled={busy}>
              Sign in
            </button>
          </form>
        </Section>
      ) : null}
      {!config.oidc && !config.devSignIn ? (
        <p>
          No sign-in is configured. Set <code>CONSOLE_OIDC_ISSUER</code> (or, for the demo tenant in
          development, <code>CONSOLE_DEV_SIGN_IN=true</code> and <code>CONSOLE_DEV_TENANT_ID</code>) and
          restart the API.
        </p>
      ) : null}
    </>
  );
}
