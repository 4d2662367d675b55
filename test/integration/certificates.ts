import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from './daemon.js';

const run = promisify(execFile);

/**
 * A throw-away PKI made with the `openssl` CLI (Debian package `openssl`): a CA, a server
 * certificate for `localhost` and 127.0.0.1 signed by it, a client certificate signed by it (mutual
 * TLS), and a second, unrelated CA (to show that a receiver signed by another CA is refused).
 * EC P-256 keys, valid for two days.
 */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caCertPath: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly otherCaCert: string;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  const openssl = requireBinary('openssl', 'openssl');
  const path = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const selfSignedCa = async (name: string): Promise<void> => {
    await run(openssl, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-subj',
      `/CN=flowstream test ${name}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  };
  const signed = async (name: string, subject: string, extensions: string): Promise<void> => {
    await run(openssl, [
      'req',
      ...ec,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
      '-subj',
      subject,
    ]);
    await writeFile(path(`${name}.ext`), extensions);
    await run(openssl, [
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
    ]);
  };

  await selfSignedCa('ca');
  await selfSignedCa('other-ca');
  await signed(
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n',
  );
  await signed('client', '/CN=flowstream client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');

  const text = (name: string): Promise<string> => readFile(path(name), 'utf8');
  return {
    dir,
    caCert: await text('ca.crt'),
    caCertPath: path('ca.crt'),
    serverCert: await text('server.crt'),
    serverKey: await text('server.key'),
    serverCertPath: path('server.crt'),
    serverKeyPath: path('server.key'),
    clientCert: await text('client.crt'),
    clientKey: await text('client.key'),
    otherCaCert: await text('other-ca.crt'),
  };
}
