import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { Api, AuditEvent, ChainReport, Offboarding } from '../api';
import { problemOf } from '../api';
import { formatDuration, formatInstant } from '../format';
import { PageTitle, ProblemMessage, Rule, Section } from '../ui';

interface OffboardingRequest {
  offboardingId: string;
  username: string;
  userId: string | null;
  action: string;
  requestedAt: string;
}

/** B1: the exposure window on a time axis, with every sign-in that succeeded inside it. */
function ExposureAxis({ offboarding }: { offboarding: Offboarding }) {
  const { exposure, timeline } = offboarding;
  if (!exposure)
    return <p>No exposure window: the offboarding named no user, or nothing has happened yet.</p>;
  const candidates: [string, string | null][] = [
    ['requested', timeline.requestedAt],
    ['due', timeline.dueAt],
    ['applied', timeline.appliedAt],
  ];
  const marks = candidates.filter((mark): mark is [string, string] => mark[1] !== null);
  const instants = [
    exposure.from,
    exposure.until,
    ...marks.map((m) => m[1]),
    ...exposure.signIns.map((s) => s.at),
  ].map(Date.parse);
  const start = Math.min(...instants);
  const end = Math.max(...instants, start + 1000);
  const pad = (end - start) * 0.05;
  const [left, right] = [start - pad, end + pad];
  const x = (iso: string) => 20 + ((Date.parse(iso) - left) / (right - left)) * 560;
  const [from, until] = [x(exposure.from), x(exposure.until)];
  const description =
    `Exposure window from ${formatInstant(exposure.from)} to ${formatInstant(exposure.until)}` +
    `${exposure.open ? ' (still open)' : ''}, ${formatDuration(exposure.durationMs)}, with ` +
    `${exposure.signIns.length} successful sign-in${exposure.signIns.length === 1 ? '' : 's'} inside it.`;
  return (
    <figure className="axis">
      <svg viewBox="0 0 600 120" role="img" aria-label={description}>
        <line x1="20" y1="60" x2="580" y2="60" className="axis-line" />
        <rect x={from} y="45" width={Math.max(3, until - from)} height="30" className="axis-window" />
        {marks.map(([label, at], i) => (
          <g key={label}>
            <line x1={x(at)} y1="35" x2={x(at)} y2="85" className="axis-mark" />
            <text x={x(at)} y={12 + (i % 2) * 14} textAnchor="middle" className="axis-label">
              {label}
            </text>
          </g>
        ))}
        {exposure.signIns.map((s, i) => (
          <circle key={i} cx={x(s.at)} cy="60" r="5" className="axis-signin" />
        ))}
        <text x={from} y="100" textAnchor="middle" className="axis-label">
          {new Date(exposure.from).toLocaleTimeString()}
        </text>
        {until - from > 110 ? (
          <text x={until} y="100" textAnchor="middle" className="axis-label">
            {new Date(exposure.until).toLocaleTimeString()}
          </text>
        ) : null}
      </svg>
      <figcaption>{description}</figcaption>
    </figure>
  );
}

function TimelineView({ offboarding }: { offboarding: Offboarding }) {
  const t = offboarding.timeline;
  const steps: [string, string | null][] = [
    ['Offboarding requested', t.requestedAt],
    ['Effective', t.effectiveAt],
    ['Written to the directory', t.writtenToDirectoryAt],
    ['Change detected by sync', t.detectedAt],
    ['Propagation scheduled', t.scheduledAt],
    ['Due', t.dueAt],
    ['Applied in the cloud', t.appliedAt],
    ['Fast path suspended app passwords', t.fastPathSuspendedAt],
    ['App passwords stopped working', t.appPasswordsStoppedAt],
  ];
  return (
    <>
      <p>
        <strong>{offboarding.username}</strong> · {offboarding.action} · {offboarding.source ?? 'unknown'}{' '}
        user
        {offboarding.reason ? ` · “${offboarding.reason}”` : ''}
      </p>
      {t.rejected ? (
        <p className="problem">
          Rejected at {formatInstant(t.rejected.at)}: {t.rejected.reason}
        </p>
      ) : null}
      <ol className="timeline" aria-label="Offboarding timeline">
        {steps.map(([label, at]) => (
          <li key={label} className={at ? 'done' : 'not-yet'}>
            <span className="step">{label}</span>{' '}
            <time dateTime={at ?? undefined}>{at ? formatInstant(at) : 'not yet'}</time>
          </li>
        ))}
      </ol>
      <h3>Exposure</h3>
      <Rule id="B1">
        From the on-premises change to the moment app passwords stopped working, and every app-password
        sign-in that succeeded in between.
      </Rule>
      <ExposureAxis offboarding={offboarding} />
      {offboarding.exposure && offboarding.exposure.signIns.length > 0 ? (
        <ul>
          {offboarding.exposure.signIns.map((s, i) => (
            <li key={i}>
              {formatInstant(s.at)} · {s.protocol} from {s.clientIp}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

const describe = (event: AuditEvent): string => {
  const d = event.data as Record<string, string | undefined>;
  const bits = [d.protocol, d.clientIp, d.reason, d.name, d.username].filter(Boolean);
  return bits.join(' · ');
};

function UserHistory({ api, userId }: { api: Api; userId: string }) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<{ events: AuditEvent[] }>('GET', `/v1/audit/events?userId=${encodeURIComponent(userId)}&limit=500`)
      .then((page) => setEvents(page.events))
      .catch(setError);
  }, [api, userId]);
  return (
    <>
      <ProblemMessage error={error} />
      {events?.length === 0 ? <p>No events.</p> : null}
      {events && events.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="The user's history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">By</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} className={e.type.startsWith('LegacySignIn') ? 'sign-in' : undefined}>
                  <td>
                    <time dateTime={e.occurredAt}>{formatInstant(e.occurredAt)}</time>
                  </td>
                  <td>{e.type}</td>
                  <td>{e.actor.kind}</td>
                  <td>{describe(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

function ChainSection({ api }: { api: Api }) {
  const [report, setReport] = useState<ChainReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(true);
  const run = useCallback(
    () =>
      api<ChainReport>('GET', '/v1/audit/chain/verify')
        .then(setReport)
        .catch(setError)
        .finally(() => setBusy(false)),
    [api],
  );
  useEffect(() => void run(), [run]);
  const verify = () => {
    setBusy(true);
    setError(null);
    void run();
  };
  return (
    <Section title="History integrity" id="chain">
      <Rule id="B3">
        Modifying, deleting, inserting or reordering any stored event breaks the chain at that position.
      </Rule>
      <ProblemMessage error={error} />
      {report ? (
        <p role="status" className={report.intact ? 'ok' : 'problem'} data-testid="chain-status">
          {report.intact
            ? `Intact: ${report.checked.events} events checked, sealed through position ${report.sealedThrough}.`
            : `Broken at position ${report.firstBreak?.seq} (${report.firstBreak?.kind}): ${report.firstBreak?.detail ?? ''} — ${report.breaks} break(s).`}
        </p>
      ) : null}
      <button type="button" onClick={verify} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify again'}
      </button>
    </Section>
  );
}

/** The NDJSON export needs the bearer token, so it is fetched and handed to the browser as a file. */
async function exportHistory(token: string, userId: string): Promise<void> {
  const query = userId ? `?userId=${encodeURIComponent(userId)}` : '';
  const response = await fetch(`/v1/audit/events/export${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw await problemOf(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = userId ? `latchkey-history-${userId}.ndjson` : 'latchkey-history.ndjson';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function AuditorPage({ api, token }: { api: Api; token: string }) {
  const [requests, setRequests] = useState<OffboardingRequest[] | null>(null);
  const [selected, setSelected] = useState<Offboarding | null>(null);
  const [userId, setUserId] = useState('');
  const [shownUser, setShownUser] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const userFieldId = useId();

  useEffect(() => {
    api<{ events: AuditEvent[] }>('GET', '/v1/audit/events?type=OffboardingRequested&limit=100')
      .then((page) => setRequests(page.events.map((e) => e.data as unknown as OffboardingRequest).reverse()))
      .catch(setError);
  }, [api]);

  const open = async (request: OffboardingRequest) => {
    setError(null);
    try {
      setSelected(await api<Offboarding>('GET', `/v1/offboarding/${request.offboardingId}`));
      if (request.userId) {
        setUserId(request.userId);
        setShownUser(request.userId);
      }
    } catch (e) {
      setError(e);
    }
  };

  const showUser = (event: FormEvent) => {
    event.preventDefault();
    setShownUser(userId.trim());
  };

  return (
    <>
      <PageTitle>Audit</PageTitle>
      <ProblemMessage error={error} />
      <Section title="Offboardings" id="offboardings">
        {requests?.length === 0 ? <p>No offboarding has been requested.</p> : null}
        <ul className="offboardings">
          {requests?.map((r) => (
            <li key={r.offboardingId}>
              <button type="button" className="link" onClick={() => open(r)}>
                {r.username} — {r.action}, requested {formatInstant(r.requestedAt)}
              </button>
            </li>
          ))}
        </ul>
      </Section>
      {selected ? (
        <Section title={`Timeline of ${selected.username}'s offboarding`} id="timeline">
          <TimelineView offboarding={selected} />
        </Section>
      ) : null}
      <Section title="A user's history" id="history">
        <form onSubmit={showUser} className="inline">
          <label htmlFor={userFieldId}>User id</label>
          <input id={userFieldId} required value={userId} onChange={(e) => setUserId(e.target.value)} />
          <button type="submit">Show history</button>
          <button
            type="button"
            className="secondary"
            onClick={() => exportHistory(token, userId.trim()).catch(setError)}
          >
            Export as NDJSON
          </button>
        </form>
        <p className="hint">
          Every event of the user, every legacy sign-in attempt included (R9). Export without a user id
          exports the tenant&apos;s whole history.
        </p>
        {shownUser ? <UserHistory key={shownUser} api={api} userId={shownUser} /> : null}
      </Section>
      <ChainSection api={api} />
    </>
  );
}
