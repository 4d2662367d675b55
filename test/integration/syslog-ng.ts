import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon, delay, freeTcpPorts, freeUdpPort, requireBinary, waitForTcp } from './daemon.js';

/**
 * A real syslog-ng (Debian package `syslog-ng-core`, 3.38) for integration tests, run in the
 * foreground with its own config, persist file, pid file and control socket in `dir`.
 *
 * Sources on 127.0.0.1, one per way flowstream can send:
 * - `s_octet`   RFC 5424 over TCP, RFC 6587 octet-counting    (`syslog(transport("tcp"))`)
 * - `s_newline` RFC 5424 over TCP, newline framing            (`network(flags(syslog-protocol))`)
 * - `s_udp`     RFC 5424 over UDP, one message per datagram   (`syslog(transport("udp"))`)
 * - `s_tls`     RFC 5425 over TLS, octet-counting, server certificate only
 * - `s_mtls`    as s_tls, but a client certificate signed by the CA is required
 *
 * Everything received is parsed by syslog-ng itself (RFC 5424 header and structured data; MSG by
 * `json-parser(prefix(".json."))`) and written as one JSON object per line by `format-json`, so
 * tests assert what syslog-ng extracted, not the bytes flowstream sent. A message whose MSG is not
 * JSON is written too, without `_json`.
 */

/** One line of syslog-ng's output. `.json.x` becomes `_json.x`, `.SDATA.id.p` `_SDATA.id.p`. */
export interface SyslogNgRecord {
  readonly SOURCE: string;
  /** PRI as a number: facility * 8 + severity. */
  readonly PRI: number;
  readonly FACILITY_NUM: number;
  readonly SEVERITY_NUM: number;
  /** Facility and severity names as syslog-ng spells them (`local0`, `err`). */
  readonly FACILITY: string;
  readonly PRIORITY: string;
  readonly HOST?: string;
  readonly PROGRAM?: string;
  readonly PID?: string;
  readonly MSGID?: string;
  readonly MESSAGE: string;
  /** The message's TIMESTAMP, ISO 8601 with milliseconds. */
  readonly ISODATE: string;
  readonly _SDATA?: Record<string, Record<string, string>>;
  readonly _json?: Record<string, unknown>;
}

export interface SyslogNgPorts {
  readonly octet: number;
  readonly newline: number;
  readonly udp: number;
  readonly tls?: number;
  readonly mtls?: number;
}

export interface SyslogNgOptions {
  /** Temp dir for config, state and output. */
  readonly dir: string;
  /** Server certificate and key files, and the CA that signs client certificates: enables s_tls and s_mtls. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export class SyslogNg {
  readonly outputPath: string;
  private readonly daemon: Daemon;

  private constructor(
    readonly ports: SyslogNgPorts,
    private readonly dir: string,
    configPath: string,
    binary: string,
  ) {
    this.outputPath = join(dir, 'received.ndjson');
    this.daemon = new Daemon('syslog-ng', binary, [
      '--foreground',
      '--no-caps',
      `--cfgfile=${configPath}`,
      `--persist-file=${join(dir, 'syslog-ng.persist')}`,
      `--pidfile=${join(dir, 'syslog-ng.pid')}`,
      `--control=${join(dir, 'syslog-ng.ctl')}`,
      '--stderr',
    ]);
  }

  static async start(options: SyslogNgOptions): Promise<SyslogNg> {
    const binary = requireBinary('syslog-ng', 'syslog-ng-core');
    const [octet, newline, tls, mtls] = await freeTcpPorts(4);
    const udp = await freeUdpPort();
    if (octet === undefined || newline === undefined || tls === undefined || mtls === undefined) {
      throw new Error('no free ports');
    }
    const ports: SyslogNgPorts =
      options.tls === undefined ? { octet, newline, udp } : { octet, newline, udp, tls, mtls };
    const configPath = join(options.dir, 'syslog-ng.conf');
    await writeFile(configPath, syslogNgConfig(ports, join(options.dir, 'received.ndjson'), options.tls));
    const instance = new SyslogNg(ports, options.dir, configPath, binary);
    await instance.start();
    return instance;
  }

  get running(): boolean {
    return this.daemon.running;
  }

  /** Starts (again) on the same ports, appending to the same output file. */
  async start(): Promise<void> {
    await this.daemon.start(async (alive) => {
      for (const port of [this.ports.octet, this.ports.newline, this.ports.tls, this.ports.mtls]) {
        if (port !== undefined) await waitForTcp(port, 10_000, alive);
      }
    });
  }

  /** SIGTERM and wait: syslog-ng writes out what it has queued before it exits. */
  stop(): Promise<void> {
    return this.daemon.stop();
  }

  async records(): Promise<SyslogNgRecord[]> {
    let text: string;
    try {
      text = await readFile(this.outputPath, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as SyslogNgRecord);
  }

  /** Waits until `predicate` holds for the records (polling the output file), or fails after `timeoutMillis`. */
  async waitFor(
    predicate: (records: SyslogNgRecord[]) => boolean,
    timeoutMillis = 10_000,
  ): Promise<SyslogNgRecord[]> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      const records = await this.records();
      if (predicate(records)) return records;
      if (Date.now() > deadline) {
        throw new Error(
          `syslog-ng output did not reach the expected state in ${timeoutMillis} ms (${records.length} records)\n${this.daemon.log}`,
        );
      }
      await delay(50);
    }
  }

  /** Records from one source whose MSGID or JSON idempotency key is in `keys`, waiting for all of them. */
  async waitForKeys(
    source: string,
    keys: readonly string[],
    timeoutMillis = 10_000,
  ): Promise<SyslogNgRecord[]> {
    const wanted = new Set(keys);
    const records = await this.waitFor((all) => {
      const seen = new Set(all.filter((r) => r.SOURCE === source).map(idempotencyKeyOf));
      return [...wanted].every((key) => seen.has(key));
    }, timeoutMillis);
    return records.filter((r) => r.SOURCE === source && wanted.has(idempotencyKeyOf(r)));
  }

  get log(): string {
    return this.daemon.log;
  }

  get directory(): string {
    return this.dir;
  }
}

/** The idempotency key syslog-ng extracted from the structured data (any flowstream@PEN SD-ID). */
export function idempotencyKeyOf(record: SyslogNgRecord): string {
  for (const [id, params] of Object.entries(record._SDATA ?? {})) {
    if (id.startsWith('flowstream@') && typeof params.idempotency_key === 'string')
      return params.idempotency_key;
  }
  return '';
}

function syslogNgConfig(ports: SyslogNgPorts, outputPath: string, tls: SyslogNgOptions['tls']): string {
  const q = (value: string): string => JSON.stringify(value);
  const tlsSources =
    tls === undefined || ports.tls === undefined || ports.mtls === undefined
      ? ''
      : `
source s_tls { syslog(ip("127.0.0.1") port(${ports.tls}) transport("tls") max-connections(200)
  tls(key-file(${q(tls.keyFile)}) cert-file(${q(tls.certFile)}) peer-verify(optional-untrusted))); };
source s_mtls { syslog(ip("127.0.0.1") port(${ports.mtls}) transport("tls") max-connections(200)
  tls(key-file(${q(tls.keyFile)}) cert-file(${q(tls.certFile)}) ca-file(${q(tls.caFile)}) peer-verify(required-trusted))); };
`;
  const tlsRefs = tlsSources === '' ? '' : ' source(s_tls); source(s_mtls);';
  return `@version: 3.38
# Written by test/integration/syslog-ng.ts for one test run.
options {
  stats_freq(0); keep_hostname(yes); use_dns(no); use_fqdn(no); chain_hostnames(no);
  keep_timestamp(yes); ts_format(iso); frac_digits(3); log_msg_size(1048576);
};
source s_octet { syslog(ip("127.0.0.1") port(${ports.octet}) transport("tcp") max-connections(200)); };
source s_newline { network(ip("127.0.0.1") port(${ports.newline}) transport("tcp") flags(syslog-protocol) max-connections(200)); };
source s_udp { syslog(ip("127.0.0.1") port(${ports.udp}) transport("udp")); };
${tlsSources}
parser p_json { json-parser(prefix(".json.")); };
destination d_out { file(${q(outputPath)}
  template("$(format-json --scope rfc5424 --scope nv-pairs --key .json.* --key ISODATE --pair PRI=int($PRI) --pair FACILITY_NUM=int($FACILITY_NUM) --pair SEVERITY_NUM=int($LEVEL_NUM))\\n")); };
log {
  source(s_octet); source(s_newline); source(s_udp);${tlsRefs}
  # A parser's changes stay inside its channel, so each channel has the destination.
  junction {
    channel { parser(p_json); destination(d_out); flags(final); };
    channel { destination(d_out); flags(final); };
  };
  flags(flow-control);
};
`;
}
