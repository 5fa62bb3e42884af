// Conformance tests MQTT cannot pass, with why. They belong in the suite's
// own `skip` option, but @ergon/testing checks named skips while vitest has
// not yet collected the nested cases (every named skip is reported unknown),
// so until that is fixed they are left out by vitest's name filter
// (vitest.config.ts) and show as skipped.
const SESSION_ASSIGNED =
  'MQTT assigns a message of a shared subscription to one session when it is published';

/** Title → reason. */
export const MQTT_CONFORMANCE_SKIPS: Readonly<Record<string, string>> = {
  'an acked transaction is never delivered again, here or to another consumer':
    'MQTT brokers expose no count of the messages a session holds (acks are checked in connector.test.ts)',
  'dispatch resolves only once the broker holds every message':
    'MQTT brokers expose no count of the messages a session holds (PUBACKs are checked in connector.test.ts)',
  'a connector holds at most its in-flight bound unsettled, and each settlement frees one place': `${SESSION_ASSIGNED}: messages already assigned to the running main connector never move to a consumer that subscribes later (the bound is checked in connector.test.ts)`,
  'metadata and the W3C trace context travel with the message: producer and consumer share one trace': `${SESSION_ASSIGNED}: the dispatching main connector's own session gets it, not a consumer that subscribes later (user properties are checked in connector.test.ts)`,
};

/** A vitest name filter that runs every test but these. */
export function withoutSkipped(): RegExp {
  const escaped = Object.keys(MQTT_CONFORMANCE_SKIPS).map((title) =>
    title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^(?!.*(?:${escaped.join('|')})$)`);
}
