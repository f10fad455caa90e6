import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import {
  ApiProblem,
  type Api,
  type AppPasswordSummary,
  type DirectoryStatus,
  type Tenant,
  type TenantPolicy,
  type UserView,
} from '../api';
import { formatDuration, formatInstant } from '../format';
import { PageTitle, ProblemMessage, Rule, Section } from '../ui';

function Switch(props: {
  label: string;
  rule: string;
  checked: boolean;
  onChange: (value: boolean) => void;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <div className="switch">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <div>
        <label htmlFor={id}>
          {props.label} <span className="rule-badge">{props.rule}</span>
        </label>
        <p className="hint">{props.children}</p>
      </div>
    </div>
  );
}

function NumberField(props: {
  label: string;
  rule: string;
  value: number | null;
  min: number;
  max: number;
  optional?: boolean;
  onChange: (value: number | null) => void;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>
        {props.label} <span className="rule-badge">{props.rule}</span>
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={props.min}
        max={props.max}
        required={!props.optional}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.target.value === '' ? null : Number(e.target.value))}
      />
      <p className="hint">{props.children}</p>
    </div>
  );
}

function PolicySection({ api }: { api: Api }) {
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [policy, setPolicy] = useState<TenantPolicy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    api<Tenant>('GET', '/v1/tenant')
      .then((t) => {
        setTenant(t);
        setPolicy(t.policy);
      })
      .catch(setError);
  }, [api]);

  const set = <K extends keyof TenantPolicy>(key: K, value: TenantPolicy[K]) => {
    setSaved(false);
    setPolicy((p) => (p ? { ...p, [key]: value } : p));
  };
  const setLockout = (key: keyof TenantPolicy['lockout'], value: number | null) =>
    policy && set('lockout', { ...policy.lockout, [key]: value ?? 0 });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!policy) return;
    setError(null);
    try {
      const updated = await api<Tenant>('PATCH', '/v1/tenant/policy', policy);
      setTenant(updated);
      setPolicy(updated.policy);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title="Tenant policy" id="policy">
      <ProblemMessage error={error} />
      {tenant ? (
        <p>
          <strong>{tenant.name}</strong> · <code>{tenant.tenantId}</code>
        </p>
      ) : null}
      {policy ? (
        <form onSubmit={save}>
          <Switch
            label="Allow users to create app passwords to sign in to non-browser apps"
            rule="R10"
            checked={policy.appPasswordsAllowed}
            onChange={(v) => set('appPasswordsAllowed', v)}
          >
            Off by default. Turned off again, existing app passwords keep working but users can no longer
            create or delete them; admins still can (R12).
          </Switch>
          <Switch
            label="Block legacy authentication"
            rule="R13"
            checked={policy.legacyAuthBlocked}
            onChange={(v) => set('legacyAuthBlocked', v)}
          >
            Every existing app password stops working at once, without being deleted; turning this off
            restores them.
          </Switch>
          <Switch
            label="Revoke app passwords when the account password is reset"
            rule="B6"
            checked={policy.revokeOnPasswordReset}
            onChange={(v) => set('revokeOnPasswordReset', v)}
          >
            As Google and Apple do. Off by default, as in Entra: a password reset leaves app passwords alone
            (R5).
          </Switch>
          <Switch
            label="Fast-path offboarding"
            rule="B2"
            checked={policy.fastPathOffboarding}
            onChange={(v) => set('fastPathOffboarding', v)}
          >
            An HR offboarding of a synced user suspends their app passwords at once, instead of waiting for
            directory sync to carry the change (which can take hours, R8).
          </Switch>
          <NumberField
            label="App passwords per user"
            rule="R3"
            value={policy.maxAppPasswordsPerUser}
            min={1}
            max={40}
            onChange={(v) => set('maxAppPasswordsPerUser', v ?? 1)}
          >
            At most 40, Entra&apos;s limit; a lower limit applies to new app passwords.
          </NumberField>
          <NumberField
            label="Maximum lifetime in days (empty: no limit)"
            rule="B7"
            value={policy.maxLifetimeDays}
            min={1}
            max={3650}
            optional
            onChange={(v) => set('maxLifetimeDays', v)}
          >
            New app passwords expire this many days after creation. Their last use is always recorded.
          </NumberField>
          <fieldset>
            <legend>
              Smart lockout of legacy sign-ins <span className="rule-badge">B8</span>
            </legend>
            <p className="hint">
              Repeated failed passwords lock a user&apos;s legacy sign-ins for a period that doubles each
              time, up to the maximum, without letting one address lock a user out for long or revealing
              whether a user exists.
            </p>
            <div className="grid">
              <NumberField
                label="Failures before a lock"
                rule="B8"
                value={policy.lockout.threshold}
                min={1}
                max={100}
                onChange={(v) => setLockout('threshold', v)}
              >
                Distinct wrong passwords.
              </NumberField>
              <NumberField
                label="First lock (seconds)"
                rule="B8"
                value={policy.lockout.baseLockSeconds}
                min={1}
                max={86400}
                onChange={(v) => setLockout('baseLockSeconds', v)}
              >
                Doubles with each further lock.
              </NumberField>
              <NumberField
                label="Longest lock (seconds)"
                rule="B8"
                value={policy.lockout.maxLockSeconds}
                min={1}
                max={86400}
                onChange={(v) => setLockout('maxLockSeconds', v)}
              >
                Where doubling stops.
              </NumberField>
              <NumberField
                label="Forget failures after (seconds)"
                rule="B8"
                value={policy.lockout.resetAfterSeconds}
                min={60}
                max={2592000}
                onChange={(v) => setLockout('resetAfterSeconds', v)}
              >
                Without a failure for this long, counting starts over.
              </NumberField>
            </div>
          </fieldset>
          <div className="actions">
            <button type="submit">Save policy</button>
            <span role="status">{saved ? 'Policy saved.' : ''}</span>
          </div>
        </form>
      ) : null}
    </Section>
  );
}

function UsersSection({ api }: { api: Api }) {
  const [query, setQuery] = useState('');
  const [user, setUser] = useState<UserView | null | undefined>(undefined);
  const [passwords, setPasswords] = useState<AppPasswordSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [notice, setNotice] = useState('');
  const searchId = useId();

  const loadPasswords = useCallback(
    (userId: string) =>
      api<AppPasswordSummary[]>('GET', `/v1/users/${userId}/app-passwords`)
        .then(setPasswords)
        .catch(setError),
    [api],
  );

  const find = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice('');
    setPasswords(null);
    try {
      const [found] = await api<UserView[]>('GET', `/v1/users?username=${encodeURIComponent(query.trim())}`);
      setUser(found ?? null);
      if (found) await loadPasswords(found.userId);
    } catch (e) {
      setError(e);
    }
  };

  const act = async (run: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await run();
      setNotice(done);
      if (user) await loadPasswords(user.userId);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title="Users and their app passwords" id="users">
      <form onSubmit={find} className="inline">
        <label htmlFor={searchId}>Username</label>
        <input
          id={searchId}
          type="search"
          required
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit">Find user</button>
      </form>
      <ProblemMessage error={error} />
      <p role="status">{notice}</p>
      {user === null ? <p>No user of that name in this tenant.</p> : null}
      {user ? (
        <div>
          <h3>{user.username}</h3>
          <p className="hint">
            {user.source} user · {user.status} · MFA {user.mfa}
            {user.mfaRegistered ? ' (registered)' : ''}
            {user.requiresModernAuth ? ' · modern authentication required (R14)' : ''}
          </p>
          {passwords?.length === 0 ? <p>No app passwords.</p> : null}
          {passwords && passwords.length > 0 ? (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Protocols</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {passwords.map((p) => (
                    <tr key={p.appPasswordId}>
                      <th scope="row">{p.name}</th>
                      <td>{formatInstant(p.createdAt)}</td>
                      <td>
                        {p.lastUsed ? `${formatInstant(p.lastUsed.at)} · ${p.lastUsed.protocol}` : 'Never'}
                      </td>
                      <td>{p.protocols ? p.protocols.join(', ') : 'All'}</td>
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Delete ${p.name} of ${user.username}`}
                          onClick={() =>
                            act(
                              () =>
                                api('DELETE', `/v1/users/${user.userId}/app-passwords/${p.appPasswordId}`),
                              `Deleted “${p.name}”.`,
                            )
                          }
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <Rule id="R16">
            After a suspected compromise, delete all of the user&apos;s app passwords in one step; the user
            then creates new ones. Admins can do this even while users cannot manage theirs (R12).
          </Rule>
          {confirmAll ? (
            <div className="actions">
              <button
                type="button"
                className="danger"
                onClick={() => {
                  setConfirmAll(false);
                  act(
                    () => api('DELETE', `/v1/users/${user.userId}/app-passwords`),
                    'Deleted every app password.',
                  );
                }}
              >
                Yes, delete all of {user.username}&apos;s app passwords
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmAll(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirmAll(true)}>
              Delete all app passwords
            </button>
          )}
        </div>
      ) : null}
    </Section>
  );
}

/** Re-renders every second: the countdowns of pending propagations. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function DirectorySection({ api }: { api: Api }) {
  const [status, setStatus] = useState<DirectoryStatus | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const now = useNow();

  const load = useCallback(() => {
    api<DirectoryStatus>('GET', '/v1/directory')
      .then(setStatus)
      .catch((e) => (e instanceof ApiProblem && e.status === 404 ? setStatus(null) : setError(e)));
  }, [api]);
  useEffect(load, [load]);

  const run = async (method: string, path: string, done: string) => {
    setError(null);
    try {
      await api(method, path);
      setNotice(done);
      load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title="Directory sync" id="directory">
      <ProblemMessage error={error} />
      <p role="status">{notice}</p>
      {status === null ? (
        <p>
          No on-premises directory is connected to this tenant. Connect one with{' '}
          <code>PUT /v1/directory</code> (see the README).
        </p>
      ) : null}
      {status ? (
        <>
          <dl className="facts">
            <dt>Directory</dt>
            <dd>
              <code>{status.url}</code> · {status.baseDn}
            </dd>
            <dt>Change detection</dt>
            <dd>{status.changeDetection ?? '—'}</dd>
            <dt>Last pass</dt>
            <dd>
              {status.lastPass
                ? `${formatInstant(status.lastPass.at)} (${status.lastPass.mode})`
                : 'None yet'}
            </dd>
            <dt>Mass-delete threshold</dt>
            <dd>{status.deletionThreshold} users</dd>
          </dl>
          <h3>Pending propagations</h3>
          <Rule id="R8">
            A change on premises reaches the cloud only through sync; until it lands, the user&apos;s app
            passwords keep working.
          </Rule>
          {status.pending.length === 0 ? <p>None.</p> : null}
          <ul className="pending">
            {status.pending.map((p) => {
              const left = Date.parse(p.dueAt) - now;
              return (
                <li key={p.changeId}>
                  Change <code>{p.changeId.slice(0, 8)}</code> due {formatInstant(p.dueAt)} —{' '}
                  <strong>{left > 0 ? `in ${formatDuration(left)}` : 'due now'}</strong>
                </li>
              );
            })}
          </ul>
          <h3>Held mass deletions</h3>
          <Rule id="B9">
            A pass that would delete more users than the threshold waits for an admin&apos;s decision.
          </Rule>
          {status.heldMassDeletions.length === 0 ? <p>None waiting.</p> : null}
          {status.heldMassDeletions.map((hold) => (
            <div key={hold.passId} className="hold">
              <p>
                Pass <code>{hold.passId.slice(0, 8)}</code> would delete {hold.changeIds.length} users.
              </p>
              <div className="actions">
                <button
                  type="button"
                  className="danger"
                  onClick={() =>
                    run('POST', `/v1/directory/mass-deletions/${hold.passId}/approve`, 'Deletions approved.')
                  }
                >
                  Approve deletions
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    run('POST', `/v1/directory/mass-deletions/${hold.passId}/reject`, 'Deletions rejected.')
                  }
                >
                  Reject
                </button>
              </div>
            </div>
          ))}
          <div className="actions">
            <button
              type="button"
              onClick={() => run('POST', '/v1/directory/sync', 'A sync pass was requested.')}
            >
              Sync now
            </button>
            <button type="button" className="secondary" onClick={load}>
              Refresh
            </button>
          </div>
          <Rule id="B10">
            Sync now runs a delta pass at once, like Entra Connect&apos;s manual delta cycle.
          </Rule>
        </>
      ) : null}
    </Section>
  );
}

export function AdminPage({ api }: { api: Api }) {
  return (
    <>
      <PageTitle>Tenant admin</PageTitle>
      <PolicySection api={api} />
      <UsersSection api={api} />
      <DirectorySection api={api} />
    </>
  );
}
