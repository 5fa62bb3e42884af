/**
 * SIGINT and SIGTERM: the first starts a graceful stop, the second forces
 * the hard stop. Listeners are removed when the run ends, so the process
 * keeps its default behaviour afterwards.
 *
 * @module
 */

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Installs the handlers; returns their removal. */
export function onShutdownSignals(graceful: (signal: string) => void, hard: () => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) graceful(signal);
    else hard();
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
}
