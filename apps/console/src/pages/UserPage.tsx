import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { ApiProblem, type Api, type AppPasswordSummary, type CreatedAppPassword } from '../api';
import { formatInstant, groupSecret } from '../format';
import { PageTitle, ProblemMessage, Rule, Section } from '../ui';

const PROTOCOLS = ['IMAP', 'POP', 'SMTP', 'EAS', 'DAV', 'MAPI', 'EWS'] as const;

/** What the tenant's policy forbids, explained when the API refuses on its account. */
function PolicyExplanation({ rule }: { rule: string }) {
  if (rule === 'R10')
    return (
      <div className="notice" role="status" data-rule="R10">
        <h3>Your organisation does not allow new app passwords</h3>
        <Rule id="R10">
          A tenant admin must allow users to create app passwords to sign in to non-browser apps. Until then
          you cannot create one. Ask your administrator if an older mail client or device needs one.
        </Rule>
        <Rule id="R12">
          While creation is turned off, the app passwords you already have keep working, but only an admin can
          delete them.
        </Rule>
      </div>
    );
  if (rule === 'R12')
    return (
      <div className="notice" role="status" data-rule="R12">
        <h3>Only an admin can delete app passwords now</h3>
        <Rule id="R12">
          Your organisation has turned app passwords off. Existing ones keep working until an administrator
          deletes them; ask yours to delete this one if a device was lost.
        </Rule>
      </div>
    );
  return null;
}

function SecretOnce({ created, onDone }: { created: CreatedAppPassword; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const headingId = useId();
  const copy = () =>
    navigator.clipboard
      .writeText(created.password.replace(/\s+/g, ''))
      .then(() => setCopied('yes'))
      .catch(() => setCopied('failed'));
  return (
    <div className="secret" role="region" aria-labelledby={headingId}>
      <h3 id={headingId}>App password for “{created.name}”</h3>
      <p className="warning">
        <strong>Copy it now: you will not see this again.</strong> Latchkey keeps only a check value, so
        nobody, not even an admin, can show it to you later. Enter it once in the device&apos;s mail client.
      </p>
      <p
        className="secret-value"
        aria-label="The app password, in groups of four letters"
        data-testid="secret"
      >
        {groupSecret(created.password).map((group, i) => (
          <span key={i}>{group}</span>
        ))}
      </p>
      <div className="actions">
        <button type="button" onClick={copy}>
          Copy to clipboard
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          I have saved it
        </button>
        <span role="status">
          {copied === 'yes'
            ? 'Copied.'
            : copied === 'failed'
              ? 'Copying is blocked here: select the letters.'
              : ''}
        </span>
      </div>
    </div>
  );
}

export function UserPage({ api }: { api: Api }) {
  const [list, setList] = useState<AppPasswordSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refusedBy, setRefusedBy] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedAppPassword | null>(null);
  const [name, setName] = useState('');
  const [protocols, setProtocols] = useState<string[]>([]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const nameId = useId();

  const load = useCallback(() => {
    api<AppPasswordSummary[]>('GET', '/v1/me/app-passwords').then(setList).catch(setError);
  }, [api]);
  useEffect(load, [load]);

  const refused = (e: unknown) => {
    if (e instanceof ApiProblem && (e.rule === 'R10' || e.rule === 'R12')) setRefusedBy(e.rule);
    setError(e);
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const body = protocols.length > 0 ? { name, protocols } : { name };
      setCreated(await api<CreatedAppPassword>('POST', '/v1/me/app-passwords', body));
      setName('');
      setProtocols([]);
      setRefusedBy(null);
      load();
    } catch (e) {
      refused(e);
    }
  };

  const remove = async (appPasswordId: string) => {
    setError(null);
    setConfirming(null);
    try {
      await api('DELETE', `/v1/me/app-passwords/${appPasswordId}`);
      load();
    } catch (e) {
      refused(e);
    }
  };

  return (
    <>
      <PageTitle>My app passwords</PageTitle>
      <p className="hint">
        App passwords let older mail clients and devices (IMAP, SMTP, POP, Exchange ActiveSync, Office 2010)
        sign in to your account, which needs multifactor authentication. Create one per device.
      </p>
      <ProblemMessage error={error} />
      {refusedBy ? <PolicyExplanation rule={refusedBy} /> : null}
      {created ? <SecretOnce created={created} onDone={() => setCreated(null)} /> : null}

      <Section title="Your app passwords" id="my-list">
        {list === null ? <p>Loading…</p> : null}
        {list?.length === 0 ? <p>You have no app passwords.</p> : null}
        {list && list.length > 0 ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Protocols</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.appPasswordId}>
                    <th scope="row">{p.name}</th>
                    <td>{formatInstant(p.createdAt)}</td>
                    <td>
                      {p.lastUsed
                        ? `${formatInstant(p.lastUsed.at)} · ${p.lastUsed.protocol} · ${p.lastUsed.clientIp}`
                        : 'Never'}
                    </td>
                    <td>{p.protocols ? p.protocols.join(', ') : 'All legacy protocols'}</td>
                    <td>
                      {p.expiresAt
                        ? `${formatInstant(p.expiresAt)}${p.expired ? ' (expired)' : ''}`
                        : 'Never'}
                    </td>
                    <td>
                      {confirming === p.appPasswordId ? (
                        <span className="actions">
                          <button type="button" className="danger" onClick={() => remove(p.appPasswordId)}>
                            Delete “{p.name}” now
                          </button>
                          <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Delete ${p.name}`}
                          onClick={() => setConfirming(p.appPasswordId)}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>

      <Section title="Create an app password" id="create">
        <form onSubmit={create}>
          <label htmlFor={nameId}>Name (which device uses it)</label>
          <input
            id={nameId}
            required
            maxLength={256}
            value={name}
            placeholder="e.g. Outlook 2010 on the office laptop"
            onChange={(e) => setName(e.target.value)}
          />
          <fieldset>
            <legend>Limit to these protocols (none ticked: all legacy protocols)</legend>
            <div className="checks">
              {PROTOCOLS.map((protocol) => (
                <label key={protocol} className="check">
                  <input
                    type="checkbox"
                    checked={protocols.includes(protocol)}
                    onChange={(e) =>
                      setProtocols((current) =>
                        e.target.checked ? [...current, protocol] : current.filter((x) => x !== protocol),
                      )
                    }
                  />
                  {protocol}
                </label>
              ))}
            </div>
          </fieldset>
          <button type="submit">Create app password</button>
        </form>
        <Rule id="R2">Latchkey generates the password and shows it exactly once.</Rule>
        <Rule id="R10">Your organisation decides whether users may create app passwords.</Rule>
      </Section>
    </>
  );
}
