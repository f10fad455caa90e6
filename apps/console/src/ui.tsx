import { useEffect, useRef, type ReactNode } from 'react';
import { ApiProblem } from './api';

/** A refusal or failure, with the API's title and detail, announced to screen readers. */
export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error : undefined;
  return (
    <div className="problem" role="alert">
      <strong>{problem ? problem.title : 'Something went wrong'}</strong>
      {problem?.detail ? <span> — {problem.detail}</span> : null}
      {problem?.rule ? <span className="rule"> ({problem.rule})</span> : null}
      {!problem ? <span> — {String((error as Error)?.message ?? error)}</span> : null}
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Moves keyboard focus to a heading when a page opens, so a screen reader announces where we are. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Rule({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p className="rule-note">
      <span className="rule-badge">{id}</span> {children}
    </p>
  );
}
