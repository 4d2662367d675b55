import type { StreamDefinition } from '../streams/stream.js';

/**
 * Settings of a stream that weaken the security of its delivery, as sentences for the health view.
 * Judged from the stream object alone, whatever the destination type:
 * - TLS certificate verification off: the stream's `tls.insecureSkipVerify`, a setting `tlsInsecureSkipVerify: true` or
 *   `rejectUnauthorized: false` anywhere in the settings (syslog's and nats' `tls` objects).
 * - Cleartext: a `url` (or `urls`/`servers` entry) with `http:`; a syslog `transport` of tcp or udp.
 */
export function securityWarnings(stream: Pick<StreamDefinition, 'type' | 'settings' | 'tls'>): string[] {
  const warnings = new Set<string>();
  if (stream.tls?.insecureSkipVerify === true) warnings.add(TLS_OFF);
  const visit = (value: unknown, key: string, depth: number): void => {
    if (depth > 8) return;
    if (key === 'tlsInsecureSkipVerify' && value === true) warnings.add(TLS_OFF);
    if (key === 'rejectUnauthorized' && value === false) warnings.add(TLS_OFF);
    if (typeof value === 'string' && /^(url|urls|servers|endpoint)$/.test(key) && /^http:\/\//i.test(value)) {
      warnings.add(CLEARTEXT_HTTP);
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, key, depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k, depth + 1);
    }
  };
  visit(stream.settings, '', 0);
  const transport = stream.settings.transport;
  if (stream.type === 'syslog' && (transport === 'tcp' || transport === 'udp'))
    warnings.add(CLEARTEXT_SYSLOG);
  return [...warnings];
}

export const TLS_OFF = 'TLS certificate verification is off: the destination is not authenticated.';
export const CLEARTEXT_HTTP = 'Events are sent over plain HTTP, unencrypted.';
export const CLEARTEXT_SYSLOG = 'Events are sent over syslog without TLS, unencrypted.';
