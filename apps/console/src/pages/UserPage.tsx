import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import {
  ApiProblem,
  type Api,
  type AppPasswordSummary,
  type CreatedAppPassword,
  type MyAppPasswordPolicy,
} from '../api';
import { formatExpiry, formatInstant, groupSecret } from '../format';
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

/** What each standing refusal means for the person, beyond the API's one-line title. */
const WHAT_TO_DO: Record<string, string> = {
  R1: 'App passwords are only for accounts with multifactor authentication turned on and registered: set up your second factor first.',
  R3: 'Delete an app password you no longer use to make room for a new one.',
  R14: 'Your account must use modern authentication, where app passwords do not work. Use an app that signs in with your account instead.',
  R15: 'Ask your administrator to enable your account again.',
  B2: 'Your organisation has suspended sign-ins with app passwords for this account. Ask your administrator.',
};

/**
 * The tenant's rules as they apply to the user, shown before they try anything: whether creating is
 * allowed (R10), how many they may hold (R3), how long new ones last (B7), and their MFA (R1).
 */
function WhatApplies({ policy }: { policy: MyAppPasswordPolicy }) {
  const others = policy.reasons.filter((r) => r.rule !== 'R10');
  return (
    <Section title="What your organisation allows" id="allowed">
      {!policy.appPasswordsAllowed ? (
        <>
          <PolicyExplanation rule="R10" />
          <PolicyExplanation rule="R12" />
        </>
      ) : null}
      {others.length > 0 ? (
        <div className="notice" data-testid="creation-blocked">
          <h3>You cannot create an app password now</h3>
          <ul>
            {others.map((reason) => (
              <li key={reason.code} data-rule={reason.rule}>
                <span className="rule-badge">{reason.rule}</span> <strong>{reason.title}</strong>{' '}
                {WHAT_TO_DO[reason.rule] ?? ''}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <dl className="facts" data-testid="what-applies">
        <dt>
          Creating app passwords <span className="rule-badge">R10</span>
        </dt>
        <dd>
          {policy.appPasswordsAllowed ? 'Allowed by your organisation' : 'Turned off by your organisation'}
        </dd>
        <dt>
          Your app passwords <span className="rule-badge">R3</span>
        </dt>
        <dd>
          {policy.liveAppPasswords} of at most {policy.maxAppPasswordsPerUser}
        </dd>
        <dt>
          Lifetime <span className="rule-badge">B7</span>
        </dt>
        <dd>
          {policy.maxLifetimeDays === null
            ? 'New app passwords do not expire'
            : `App passwords expire ${policy.maxLifetimeDays} days after they are created`}
        </dd>
        <dt>
          Multifactor authentication <span className="rule-badge">R1</span>
        </dt>
        <dd>
          {policy.mfa === 'disabled'
            ? 'Off'
            : `${policy.mfa === 'enforced' ? 'Enforced' : 'Enabled'}, ${
                policy.mfaRegistered ? 'registered' : 'not registered yet'
              }`}
        </dd>
      </dl>
    </Section>
  );
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
      {/* A name on a plain paragraph is prohibited by ARIA and ignored by some screen readers: a group
          carries it, announced before the letters. */}
      <p
        className="secret-value"
        role="group"
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
  const [policy, setPolicy] = useState<MyAppPasswordPolicy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refusedBy, setRefusedBy] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedAppPassword | null>(null);
  const [name, setName] = useState('');
  const [protocols, setProtocols] = useState<string[]>([]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const nameId = useId();
  const blockedId = useId();

  // The policy is read again with the list: creating or deleting changes what R3 allows next.
  const load = useCallback(() => {
    api<AppPasswordSummary[]>('GET', '/v1/me/app-passwords').then(setList).catch(setError);
    api<MyAppPasswordPolicy>('GET', '/v1/me/app-password-policy').then(setPolicy).catch(setError);
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
      {refusedBy && policy?.appPasswordsAllowed !== false ? <PolicyExplanation rule={refusedBy} /> : null}
      {policy ? <WhatApplies policy={policy} /> : null}
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
                    <td>{formatExpiry(p)}</td>
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
                          disabled={policy?.canDelete === false}
                          title={
                            policy?.canDelete === false
                              ? 'Only an admin can delete app passwords now (R12)'
                              : undefined
                          }
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
        {policy && !policy.canCreate ? (
          <p id={blockedId} className="why-not" data-testid="create-disabled-because">
            You cannot create an app password now:{' '}
            {policy.reasons.map((r) => `${r.title} (${r.rule})`).join(' ')}
          </p>
        ) : null}
        <form onSubmit={create}>
          <fieldset
            className="plain"
            disabled={policy?.canCreate === false}
            aria-describedby={policy?.canCreate === false ? blockedId : undefined}
          >
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
          </fieldset>
        </form>
        <Rule id="R2">Latchkey generates the password and shows it exactly once.</Rule>
        <Rule id="R10">Your organisation decides whether users may create app passwords.</Rule>
      </Section>
    </>
  );
}
