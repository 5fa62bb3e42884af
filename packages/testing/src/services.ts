/**
 * How service-backed tests find their services: under `CI=true` a missing
 * service fails the test run; elsewhere the suite skips with a loud message
 * naming the service.
 *
 * @module
 */
import { Socket } from 'node:net';

/** Result of {@link requireService}. */
export interface ServiceCheck {
  /** True when the service answered. */
  readonly available: boolean;
  /** The URL that was tried. */
  readonly url: string;
}

/**
 * Checks that a TCP service is reachable. Under `CI=true` an unreachable
 * service throws (so the suite fails); otherwise it warns loudly and returns
 * `available: false` for the caller to skip.
 */
export async function requireService(name: string, url: string, timeoutMs = 1500): Promise<ServiceCheck> {
  const { hostname, port } = new URL(url);
  const available = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => done(true));
  });
  if (!available) {
    const message = `${name} is not reachable at ${url}: start it (see README, "Services") or set the URL variable`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING ${name}-backed tests: ${message} ***\n`);
  }
  return { available, url };
}
