import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import {
  ApiProblem,
  type Api,
  type AppPasswordSummary,
  type DirectoryStatus,
  type Tenant,
  type TenantPolicy,
  type UserPage,
  type UserRow,
} from '../api';
import { formatDuration, formatExpiry, formatInstant } from '../format';
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
            As Google and Apple do, for resets here and, for synced users, in on-premises AD (carried by
            directory sync). Off by default, as in Entra: a password reset leaves app passwords alone (R5).
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
            Every app password, existing ones included, stops working this many days after its creation;
            raising the limit again restores them up to the expiry they were created with, so until deleted
            they still count against the per-user limit. Their last use is always recorded.
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

/**
 * The tenant's users, a page at a time in username order (GET /v1/users/page), narrowed by the start
 * of the username. Each name is a button: Tab reaches it, Enter opens the user's app passwords.
 */
function UserList(props: {
  api: Api;
  selected: string | undefined;
  refreshed: number;
  onOpen: (user: UserRow) => void;
}) {
  const { api, onOpen, selected, refreshed } = props;
  const [prefix, setPrefix] = useState('');
  const [applied, setApplied] = useState('');
  // Cursors of the pages before this one, so "Previous" goes back without the API walking backwards.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<UserPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const filterId = useId();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    const query = new URLSearchParams({ limit: String(USERS_PER_PAGE) });
    if (applied) query.set('prefix', applied);
    if (cursor) query.set('cursor', cursor);
    api<UserPage>('GET', `/v1/users/page?${query}`)
      .then((answer) => {
        setError(null);
        setPage(answer);
      })
      .catch(setError);
  }, [api, applied, cursor, refreshed]);

  const filter = (event: FormEvent) => {
    event.preventDefault();
    setApplied(prefix.trim());
    setCursors([undefined]);
  };

  return (
    <div>
      <form onSubmit={filter} className="inline" role="search">
        <label htmlFor={filterId}>Username starts with</label>
        <input id={filterId} type="search" value={prefix} onChange={(e) => setPrefix(e.target.value)} />
        <button type="submit">Filter</button>
      </form>
      <ProblemMessage error={error} />
      {page?.items.length === 0 ? (
        <p>{applied ? `No user's name starts with “${applied}”.` : 'This tenant has no users yet.'}</p>
      ) : null}
      {page && page.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="The tenant's users">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Source</th>
                <th scope="col">Status</th>
                <th scope="col">MFA</th>
                <th scope="col">App passwords</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((u) => (
                <tr key={u.userId}>
                  <th scope="row">
                    <button
                      type="button"
                      className="link"
                      aria-pressed={selected === u.userId}
                      onClick={() => onOpen(u)}
                    >
                      {u.username}
                    </button>
                  </th>
                  <td>{u.source}</td>
                  <td>
                    {u.status}
                    {u.signInsSuspended ? ' · sign-ins suspended' : ''}
                  </td>
                  <td>
                    {u.mfa}
                    {u.mfaRegistered ? ' (registered)' : ''}
                  </td>
                  <td>{u.appPasswordCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav className="actions" aria-label="Pages of users">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length === 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          className="secondary"
          disabled={!page?.next}
          onClick={() => page?.next && setCursors((c) => [...c, page.next!])}
        >
          Next page
        </button>
      </nav>
    </div>
  );
}

const USERS_PER_PAGE = 20;

function UsersSection({ api }: { api: Api }) {
  const [user, setUser] = useState<UserRow | null>(null);
  const [passwords, setPasswords] = useState<AppPasswordSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [notice, setNotice] = useState('');
  const [refreshed, setRefreshed] = useState(0);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const loadPasswords = useCallback(
    (userId: string) =>
      api<AppPasswordSummary[]>('GET', `/v1/users/${userId}/app-passwords`)
        .then(setPasswords)
        .catch(setError),
    [api],
  );

  const open = async (row: UserRow) => {
    setError(null);
    setNotice('');
    setConfirmAll(false);
    setPasswords(null);
    setUser(row);
    await loadPasswords(row.userId);
    headingRef.current?.focus(); // the keyboard lands on what was opened
  };

  const act = async (run: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await run();
      setNotice(done);
      setRefreshed((n) => n + 1); // the list's counts
      if (user) await loadPasswords(user.userId);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title="Users and their app passwords" id="users">
      <UserList api={api} selected={user?.userId} refreshed={refreshed} onOpen={open} />
      <ProblemMessage error={error} />
      <p role="status">{notice}</p>
      {user ? (
        <div role="region" aria-labelledby="opened-user">
          <h3 id="opened-user" tabIndex={-1} ref={headingRef}>
            App passwords of {user.username}
          </h3>
          <p className="hint">
            {user.source} user · {user.status} · MFA {user.mfa}
            {user.mfaRegistered ? ' (registered)' : ''}
          </p>
          {user.signInsSuspended ? (
            <div className="actions">
              <Rule id="B2">
                An HR offboarding suspended this user&apos;s sign-ins with app passwords. It stays until you
                lift it, also when the offboarding itself was refused.
              </Rule>
              <button
                type="button"
                onClick={() =>
                  act(async () => {
                    await api('POST', `/v1/users/${user.userId}/resume-sign-ins`);
                    setUser({ ...user, signInsSuspended: false });
                  }, "Sign-ins resumed: the user's app passwords work again.")
                }
              >
                Resume sign-ins of {user.username}
              </button>
            </div>
          ) : null}
          {passwords?.length === 0 ? <p>No app passwords.</p> : null}
          {passwords && passwords.length > 0 ? (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Expires</th>
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
                      <td>{formatExpiry(p)}</td>
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
  // The clock ticks once a second; a status that arrives between ticks is counted down from the
  // instant it arrived, or a change just scheduled would show more left than its whole delay.
  const [loadedAt, setLoadedAt] = useState(0);
  const now = Math.max(useNow(), loadedAt);

  const load = useCallback(() => {
    api<DirectoryStatus>('GET', '/v1/directory')
      .then((loaded) => {
        setLoadedAt(Date.now());
        setStatus(loaded);
      })
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
            <dd>
              Held when a pass would delete more than {status.deletionThreshold} user
              {status.deletionThreshold === 1 ? '' : 's'}
            </dd>
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
