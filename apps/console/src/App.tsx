import { useCallback, useEffect, useMemo, useState } from 'react';
import { apiWith, type ConsoleConfig, type Me, type Role } from './api';
import { clearSession, completeOidcSignIn, loadSession, saveSession, type Session } from './auth';
import { AdminPage } from './pages/AdminPage';
import { AuditorPage } from './pages/AuditorPage';
import { SignInPage } from './pages/SignInPage';
import { UserPage } from './pages/UserPage';
import { ProblemMessage } from './ui';

type View = 'me' | 'admin' | 'audit';
const VIEWS: { view: View; role: Role; label: string }[] = [
  { view: 'me', role: 'user', label: 'My app passwords' },
  { view: 'admin', role: 'tenant-admin', label: 'Tenant admin' },
  { view: 'audit', role: 'auditor', label: 'Audit' },
];
const BASE = '/console/';

const viewOfPath = (): View | null => {
  const name = location.pathname.slice(BASE.length).split('/')[0];
  return VIEWS.some((v) => v.view === name) ? (name as View) : null;
};

export function App() {
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [view, setView] = useState<View | null>(viewOfPath);

  const signOut = useCallback(() => {
    clearSession();
    setSession(null);
    setMe(null);
    history.replaceState(null, '', BASE);
  }, []);
  const api = useMemo(() => (session ? apiWith(session.accessToken, signOut) : null), [session, signOut]);

  useEffect(() => {
    const onPop = () => setView(viewOfPath());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    fetch('/console/config.json')
      .then((r) => r.json() as Promise<ConsoleConfig>)
      .then(setConfig)
      .catch(setError);
  }, []);

  // Back from the issuer: finish the authorization-code flow, then leave the callback URL (and its code).
  useEffect(() => {
    if (!config?.oidc || !location.pathname.startsWith(`${BASE}callback`)) return;
    const current = new URL(location.href);
    history.replaceState(null, '', BASE);
    completeOidcSignIn(config.oidc, current)
      .then((s) => {
        saveSession(s);
        setSession(s);
      })
      .catch(setError);
  }, [config]);

  useEffect(() => {
    if (!api) return;
    api<Me>('GET', '/v1/me').then(setMe).catch(setError);
  }, [api]);

  const available = VIEWS.filter((v) => me?.roles.includes(v.role));
  const current = available.find((v) => v.view === view) ?? available[0];
  const go = (next: View) => {
    history.pushState(null, '', `${BASE}${next}`);
    setView(next);
  };

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Latchkey</span>
        {me ? (
          <nav aria-label="Sections">
            {available.map((v) => (
              <a
                key={v.view}
                href={`${BASE}${v.view}`}
                aria-current={current?.view === v.view ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  go(v.view);
                }}
              >
                {v.label}
              </a>
            ))}
          </nav>
        ) : null}
        {session ? (
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        ) : null}
      </header>
      <main id="main">
        <ProblemMessage error={error} />
        {!config ? <p>Loading…</p> : null}
        {config && !session ? <SignInPage config={config} onSignedIn={(s) => setSession(s)} /> : null}
        {api && me ? (
          <>
            <p className="who">
              Signed in as <code>{me.subject}</code> ({me.roles.join(', ')})
            </p>
            {!current ? <p>This account has no role that the console serves.</p> : null}
            {current?.view === 'me' ? <UserPage api={api} /> : null}
            {current?.view === 'admin' ? <AdminPage api={api} /> : null}
            {current?.view === 'audit' ? <AuditorPage api={api} token={session!.accessToken} /> : null}
          </>
        ) : null}
      </main>
    </>
  );
}
