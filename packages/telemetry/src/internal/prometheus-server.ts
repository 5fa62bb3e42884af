/**
 * Serves a `PrometheusExporter` on our own HTTP server, so port 0 (a free
 * port) works, listen errors reach the caller, and the real URL is known.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErgonError, ErrorCode } from '@ergon/core';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/** A listening scrape endpoint. */
export interface PrometheusEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts an HTTP server answering `GET <endpoint>` with the exporter's text format. */
export async function servePrometheus(options: {
  exporter: PrometheusExporter;
  port: number;
  host: string | undefined;
  endpoint: string;
}): Promise<PrometheusEndpoint> {
  const { exporter, endpoint } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === endpoint && (request.method === 'GET' || request.method === 'HEAD')) {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ErgonError(
          ErrorCode.INVALID_ARGUMENT,
          `the Prometheus endpoint could not listen on ${options.host ?? '*'}:${options.port} (${error.code ?? error.message}); choose another metrics.port, or 0 for a free one`,
          { cause: error, details: { port: options.port } },
        ),
      );
    });
    server.listen({ port: options.port, host: options.host }, () => resolve());
  });
  // Like the exporter's own server: scraping must not keep the process alive.
  server.unref();
  const { port } = server.address() as AddressInfo;
  const host =
    !options.host || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${endpoint}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
