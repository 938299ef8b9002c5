import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../src/host/transport/frame-decoder.ts';
import type { TransportLogger } from '../../src/host/transport/logger.ts';
import { TlsConnector, type TlsConnectorDependencies, type TlsConnectorOptions } from '../../src/host/transport/tls-connector.ts';
import { TlsServer, type TlsServerDependencies, type TlsServerOptions } from '../../src/host/transport/tls-server.ts';
import type { TlsCredentials } from '../../src/host/transport/tls-credentials.ts';
import type { Connection } from '../../src/host/transport/connection.ts';
import { createCertificateAuthority, createCsr, issueCertificate, type CertificateAuthority, type Principal, type Role } from '../../src/security/pki.ts';

// ---- fixtures ---------------------------------------------------------------------------

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}
function captureLogger(): TransportLogger & { entries: Logged[] } {
  const entries: Logged[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, message: string) => void entries.push({ level, fields, message });
  return { entries, debug: log('debug'), info: log('info'), warn: log('warn') };
}

async function identity(ca: CertificateAuthority, role: Role, id: number): Promise<TlsCredentials> {
  const csr = await createCsr({ role, id });
  const certPem = await issueCertificate(ca, csr.csrPem, { role, id, validityDays: 1 });
  return { certPem, keyPem: csr.keyPem, caPem: ca.certPem };
}

/** Polls until `predicate` holds; fails with `what` after timeoutMs. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Awaits `promise`, failing (instead of hanging the file) if it has not settled within timeoutMs. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const replica = (id: number): Principal => ({ role: 'replica', id });
const client = (id: number): Principal => ({ role: 'client', id });
const text = (frame: Uint8Array) => Buffer.from(frame).toString();

/** Starts servers and connectors and closes them all at the end of each test. */
class Harness {
  readonly logger = captureLogger();
  private readonly servers: TlsServer[] = [];
  private readonly connectors: TlsConnector[] = [];

  async server(credentials: TlsCredentials, deps: Partial<TlsServerDependencies>, options: Partial<TlsServerOptions> = {}, port = 0): Promise<{ server: TlsServer; port: number }> {
    const server = new TlsServer({ ...credentials, ...options }, { onFrame: () => {}, logger: this.logger, ...deps });
    this.servers.push(server);
    return { server, port: await server.listen(port) };
  }

  connector(credentials: TlsCredentials, deps: TlsConnectorDependencies = {}, options: Partial<TlsConnectorOptions> = {}): TlsConnector {
    const connector = new TlsConnector({ ...credentials, ...options }, { logger: this.logger, random: prng(7), ...deps });
    this.connectors.push(connector);
    return connector;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connectors.map((c) => c.close()), ...this.servers.map((s) => s.close())]);
  }
}

// ---- tests ------------------------------------------------------------------------------

describe('mutual-TLS framed transport', () => {
  let ca: CertificateAuthority;
  let foreignCa: CertificateAuthority;
  const ids = new Map<string, TlsCredentials>();
  const creds = (p: Principal): TlsCredentials => {
    const found = ids.get(`${p.role}-${p.id}`);
    if (found === undefined) throw new Error(`no fixture for ${p.role}-${p.id}`);
    return found;
  };
  let foreignClient: TlsCredentials;

  before(async () => {
    ca = await createCertificateAuthority({ commonName: 'bulwark-ca', validityDays: 1 });
    foreignCa = await createCertificateAuthority({ commonName: 'bulwark-ca', validityDays: 1 });
    for (const p of [replica(1), replica(2), client(7), client(8)]) ids.set(`${p.role}-${p.id}`, await identity(ca, p.role, p.id));
    // Knows the real CA (public), but holds a certificate for client-7 from another CA.
    foreignClient = { ...(await identity(foreignCa, 'client', 7)), caPem: ca.certPem };
  });

  it('two replicas exchange frames both ways, on their own channels and as replies', async () => {
    const h = new Harness();
    try {
      const atOne: string[] = [];
      const atTwo: string[] = [];
      const one = await h.server(creds(replica(1)), { onFrame: (p, f) => atOne.push(`${p.role}-${p.id}:${text(f)}`) });
      const two = await h.server(creds(replica(2)), {
        onFrame: (p, f, connection) => {
          atTwo.push(`${p.role}-${p.id}:${text(f)}`);
          connection.send(Buffer.from(`reply to ${text(f)}`)); // back on the caller's own connection
        },
      });
      const replies: string[] = [];
      const oneToTwo = h.connector(creds(replica(1)), { onFrame: (p, f) => replies.push(`${p.role}-${p.id}:${text(f)}`) });
      const twoToOne = h.connector(creds(replica(2)));
      oneToTwo.connect({ host: '127.0.0.1', port: two.port, expected: replica(2) });
      twoToOne.connect({ host: '127.0.0.1', port: one.port, expected: replica(1) });
      oneToTwo.send(Buffer.from('propose 1')); // queued until connected
      await waitFor(() => oneToTwo.connected && twoToOne.connected, 'both channels');
      twoToOne.send(Buffer.from('write 1'));
      oneToTwo.send(Buffer.from('accept 1'));
      await waitFor(() => atOne.length === 1 && atTwo.length === 2 && replies.length === 2, 'all frames');
      assert.deepEqual(atTwo, ['replica-1:propose 1', 'replica-1:accept 1']);
      assert.deepEqual(atOne, ['replica-2:write 1']);
      assert.deepEqual(replies, ['replica-2:reply to propose 1', 'replica-2:reply to accept 1']);
      assert.deepEqual(two.server.openConnections().map((c) => c.principal), [replica(1)]);
      assert.equal(two.server.send(replica(1), Buffer.from('by principal')), true);
      await waitFor(() => replies.length === 3, 'frame sent by principal');
      assert.equal(replies[2], 'replica-2:by principal');
      assert.equal(two.server.send(client(99), Buffer.from('nobody')), false);
    } finally {
      await h.close();
    }
  });

  it('10 000 frames of mixed sizes arrive intact and in order, with coalesced writes', async () => {
    const h = new Harness();
    try {
      const random = prng(1234);
      const sizes = Array.from({ length: 10_000 }, () => (random() < 0.02 ? 16_000 + Math.floor(random() * 100_000) : Math.floor(random() * 300)));
      const frameOf = (i: number) => {
        const frame = Buffer.alloc(Math.max(4, sizes[i] as number), i & 0xff);
        frame.writeUInt32BE(i, 0);
        return frame;
      };
      const received: Buffer[] = [];
      const { port } = await h.server(creds(replica(1)), { onFrame: (_p, f) => received.push(f) });
      let connection: Connection | undefined;
      const connector = h.connector(creds(client(7)), { onConnect: (_p, c) => (connection = c) }, { queueBytesMax: 256 * 1024 * 1024 });
      connector.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await waitFor(() => connector.connected, 'connect');
      for (let i = 0; i < sizes.length; i++) assert.equal(connector.send(frameOf(i)), true);
      await waitFor(() => received.length === sizes.length, '10 000 frames', 20_000);
      for (let i = 0; i < sizes.length; i++) assert.ok(received[i]?.equals(frameOf(i)), `frame ${i} differs`);
      assert.ok(connection !== undefined);
      // One turn's frames go out in few writes: the small ones copied together, the large ones on their own.
      const large = sizes.filter((s) => s > 16 * 1024).length;
      // Without coalescing this would be 10 000 writes.
      assert.ok(connection.stats.sent.writeCalls <= 3 * large + 20, `writeCalls ${connection.stats.sent.writeCalls} for ${large} large frames`);
    } finally {
      await h.close();
    }
  });

  it('refuses a client whose certificate comes from another CA: no frame delivered, the client sees the close', async () => {
    const h = new Harness();
    try {
      const delivered: string[] = [];
      const connected: string[] = [];
      const { server, port } = await h.server(creds(replica(1)), { onFrame: (_p, f) => delivered.push(text(f)), onConnect: (p) => connected.push(`${p.role}-${p.id}`) });
      const disconnects: string[] = [];
      const intruder = h.connector(foreignClient, { onDisconnect: (_p, _c, reason) => disconnects.push(reason) }, { backoffMsMin: 20, backoffMsMax: 100 });
      intruder.connect({ host: '127.0.0.1', port, expected: replica(1) });
      intruder.send(Buffer.from('transfer everything to me'));
      await waitFor(() => server.stats.handshakesFailed >= 2 && intruder.stats.closedBeforeHealthy >= 1, 'refusals seen on both sides');
      assert.deepEqual(delivered, []);
      assert.deepEqual(connected, []);
      assert.equal(server.stats.connectionsAccepted, 0);
      // Under TLS 1.3 the intruder completes its side of the handshake, then sees the close.
      assert.ok(disconnects.length >= 1);
      assert.equal(intruder.healthy, false);
      assert.match(intruder.lastError ?? '', /closed right after the handshake .*may have refused our certificate/);
      assert.ok(h.logger.entries.some((e) => e.level === 'warn' && e.message === 'TLS handshake refused' && typeof e.fields['authorizationError'] === 'string'));
      // The backoff keeps it from spinning: a handful of attempts in 300 ms, not hundreds.
      const attempts = intruder.stats.dialAttempts;
      await sleep(300);
      assert.ok(intruder.stats.dialAttempts - attempts <= 6, `dialled ${intruder.stats.dialAttempts - attempts} times in 300 ms`);
    } finally {
      await h.close();
    }
  });

  it('refuses a raw TLS client without a certificate', async () => {
    const h = new Harness();
    try {
      const { server, port } = await h.server(creds(replica(1)), {});
      const closed = new Promise<void>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca.certPem, minVersion: 'TLSv1.3' });
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      });
      await within(closed, 'the server to close a client without certificate');
      await waitFor(() => server.stats.handshakesFailed === 1, 'handshake failure counted');
      assert.equal(server.stats.connectionsAccepted, 0);
    } finally {
      await h.close();
    }
  });

  it('closes a connection that announces an oversize frame, logs why, and keeps serving others', async () => {
    const h = new Harness();
    try {
      const delivered: string[] = [];
      const disconnected: string[] = [];
      const { port } = await h.server(
        creds(replica(1)),
        {
          onFrame: (p, f, c) => {
            delivered.push(`${p.role}-${p.id}:${text(f)}`);
            c.send(f);
          },
          onDisconnect: (p, _c, reason) => disconnected.push(`${p.role}-${p.id}: ${reason}`),
        },
        { frameBytesMax: 1024 },
      );
      const echoes: string[] = [];
      const good = h.connector(creds(client(8)), { onFrame: (_p, f) => echoes.push(text(f)) });
      good.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await waitFor(() => good.connected, 'good client connected');

      // A well-authenticated but misbehaving client, speaking raw TLS.
      const c7 = creds(client(7));
      const bad = tlsConnect({ host: '127.0.0.1', port, ca: c7.caPem, cert: c7.certPem, key: c7.keyPem, minVersion: 'TLSv1.3' });
      bad.on('error', () => {});
      const badClosed = new Promise<void>((resolve) => bad.on('close', () => resolve()));
      await within(new Promise<void>((resolve) => bad.once('secureConnect', () => resolve())), 'the raw client handshake');
      const header = Buffer.alloc(4);
      header.writeUInt32BE(1025);
      bad.write(Buffer.concat([encodeFrame(Buffer.from('fine')), header, Buffer.alloc(2000)]));
      await within(badClosed, 'the server to close the oversize sender');
      await waitFor(() => disconnected.length === 1, 'server-side disconnect');
      assert.deepEqual(delivered, ['client-7:fine']);
      assert.match(disconnected[0] ?? '', /^client-7: peer announced a 1025-byte frame, above frameBytesMax 1024/);
      assert.ok(h.logger.entries.some((e) => e.level === 'warn' && /1025-byte frame/.test(e.message) && e.fields['principal'] === 'client-7'));

      good.send(Buffer.from('still there?'));
      await waitFor(() => echoes.length === 1, 'echo to the good client');
      assert.deepEqual(echoes, ['still there?']);
    } finally {
      await h.close();
    }
  });

  it('refuses a server whose certificate names replica-2 when replica-1 was expected', async () => {
    const h = new Harness();
    try {
      const { server, port } = await h.server(creds(replica(2)), {});
      const connects: string[] = [];
      const connector = h.connector(creds(client(8)), { onConnect: (p) => connects.push(`${p.role}-${p.id}`) }, { backoffMsMin: 20, backoffMsMax: 100 });
      connector.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await waitFor(() => connector.stats.dialAttempts >= 2 && connector.lastError !== null, 'a refused attempt');
      assert.match(connector.lastError ?? '', /is replica-2, expected replica-1/);
      assert.equal(connector.connected, false);
      assert.equal(connector.stats.connects, 0);
      assert.deepEqual(connects, []);
      assert.equal(server.stats.connectionsAccepted, 0);
    } finally {
      await h.close();
    }
  });

  it('reconnects after the server restarts on the same port, delivering frames queued meanwhile', async () => {
    const h = new Harness();
    try {
      const firstLife: string[] = [];
      const secondLife: string[] = [];
      const first = await h.server(creds(replica(1)), { onFrame: (_p, f) => firstLife.push(text(f)) });
      const events: string[] = [];
      const connector = h.connector(
        creds(client(7)),
        { onConnect: () => events.push('connect'), onDisconnect: () => events.push('disconnect') },
        { backoffMsMin: 20, backoffMsMax: 200 },
      );
      connector.connect({ host: '127.0.0.1', port: first.port, expected: replica(1) });
      connector.send(Buffer.from('before'));
      await waitFor(() => firstLife.length === 1, 'first frame');

      await first.server.close();
      await waitFor(() => !connector.connected, 'connector notices');
      connector.send(Buffer.from('while down 1'));
      connector.send(Buffer.from('while down 2'));
      assert.equal(connector.queuedFrames, 2);
      await sleep(100); // a few failed redials against a closed port

      await h.server(creds(replica(1)), { onFrame: (_p, f) => secondLife.push(text(f)) }, {}, first.port);
      await waitFor(() => secondLife.length === 2, 'queued frames after reconnect');
      connector.send(Buffer.from('after'));
      await waitFor(() => secondLife.length === 3, 'frame after reconnect');
      assert.deepEqual(firstLife, ['before']);
      assert.deepEqual(secondLife, ['while down 1', 'while down 2', 'after']);
      assert.deepEqual(events, ['connect', 'disconnect', 'connect']);
      assert.ok(connector.stats.dialAttempts >= 3);
    } finally {
      await h.close();
    }
  });

  it('whenConnected waits through refused dials for a late server, and rejects on its deadline or on close', async () => {
    const h = new Harness();
    try {
      const early = await h.server(creds(replica(1)), {});
      const port = early.port;
      await early.server.close(); // nothing listens on `port` now
      const connector = h.connector(creds(client(7)), {}, { backoffMsMin: 20, backoffMsMax: 50 });
      connector.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await assert.rejects(connector.whenConnected(150), /not connected to replica-1 within 150 ms: .*ECONNREFUSED/);
      assert.equal(connector.connected, false);

      const waiting = connector.whenConnected(5000);
      await sleep(50); // still refused meanwhile
      await h.server(creds(replica(1)), {}, {}, port);
      await within(waiting, 'whenConnected after the server started');
      assert.equal(connector.connected, true);
      await within(connector.whenConnected(1), 'whenConnected when already connected');

      // Closed while waiting: the wait ends at once with an error, not at its deadline.
      const abandoned = h.connector(creds(client(8)), {}, { backoffMsMin: 20, backoffMsMax: 50 });
      abandoned.connect({ host: '127.0.0.1', port: port + 1, expected: replica(2) });
      const rejected = assert.rejects(within(abandoned.whenConnected(5000), 'rejection on close'), /connector closed while waiting/);
      await abandoned.close();
      await rejected;
      await assert.rejects(abandoned.whenConnected(5000), /connector is closed/);
    } finally {
      await h.close();
    }
  });

  it('a newer connection of the same principal replaces the older one', async () => {
    const h = new Harness();
    try {
      const events: string[] = [];
      const { server, port } = await h.server(creds(replica(1)), {
        onConnect: (p, c) => events.push(`connect ${p.role}-${p.id}:${c.remotePort}`),
        onDisconnect: (p, c, reason) => events.push(`disconnect ${p.role}-${p.id}:${c.remotePort} ${reason}`),
      });
      const firstClosed: string[] = [];
      const first = h.connector(creds(client(7)), { onDisconnect: () => firstClosed.push('closed') }, { backoffMsMin: 10_000, backoffMsMax: 10_000 });
      first.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await waitFor(() => server.openConnections().length === 1, 'first connection');
      const firstPort = server.openConnections()[0]?.remotePort;
      const second = h.connector(creds(client(7)));
      second.connect({ host: '127.0.0.1', port, expected: replica(1) });
      await waitFor(() => server.connectionOf(client(7))?.remotePort !== firstPort && server.connectionOf(client(7)) !== undefined, 'second connection');
      await waitFor(() => firstClosed.length === 1, 'first connection closed');
      assert.equal(server.openConnections().length, 1);
      assert.equal(server.stats.connectionsReplaced, 1);
      const secondPort = server.connectionOf(client(7))?.remotePort;
      assert.deepEqual(events, [
        `connect client-7:${firstPort}`,
        `disconnect client-7:${firstPort} replaced by a newer connection of the same principal`,
        `connect client-7:${secondPort}`,
      ]);
    } finally {
      await h.close();
    }
  });

  it('refuses a principal that authorize() does not allow', async () => {
    const h = new Harness();
    try {
      const delivered: string[] = [];
      const { server, port } = await h.server(creds(replica(1)), { authorize: (p) => p.role === 'replica', onFrame: (_p, f) => delivered.push(text(f)) });
      const connector = h.connector(creds(client(7)), {}, { backoffMsMin: 20, backoffMsMax: 100 });
      connector.connect({ host: '127.0.0.1', port, expected: replica(1) });
      connector.send(Buffer.from('hello'));
      await waitFor(() => server.stats.connectionsRefused >= 1 && connector.stats.disconnects >= 1, 'refusal');
      assert.deepEqual(delivered, []);
      assert.ok(h.logger.entries.some((e) => e.message === 'connection refused' && /client-7 is not allowed/.test(String(e.fields['reason']))));
    } finally {
      await h.close();
    }
  });

  it('close() stops redialling: no timers or sockets left behind', async () => {
    const h = new Harness();
    const { server, port } = await h.server(creds(replica(1)), {});
    await server.close();
    const connector = h.connector(creds(client(7)), {}, { backoffMsMin: 10, backoffMsMax: 20 });
    connector.connect({ host: '127.0.0.1', port, expected: replica(1) });
    await sleep(60);
    await connector.close();
    const attempts = connector.stats.dialAttempts;
    assert.ok(attempts >= 2);
    await sleep(60);
    assert.equal(connector.stats.dialAttempts, attempts);
    assert.equal(connector.send(Buffer.from('x')), false);
    assert.throws(() => connector.connect({ host: '127.0.0.1', port, expected: replica(1) }), /closed/);
    await h.close();
  });
});
