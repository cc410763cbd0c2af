import net from 'node:net';
import { freshDatabase } from '../setup/db';

/**
 * A TCP proxy on 127.0.0.1 that a test can cut (drop every connection, refuse new ones) and
 * restore: a dependency outage without touching the real server.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** hung: connections stay open but nothing passes (see hang); `held` are those accepted meanwhile */
  private hung = false;
  private readonly held = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      if (this.hung) {
        // accepted, never answered: a connect waits for its timeout (and leaves the set when it gives up)
        this.held.add(client.on('error', () => client.destroy()).on('close', () => this.held.delete(client)));
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Client connections currently open through the proxy. */
  get openConnections(): number {
    return this.sockets.size / 2; // each one is a client socket and its upstream
  }

  /** Outage: existing connections die, new ones are refused. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const sock of [...this.sockets, ...this.held]) sock.destroy();
    this.sockets.clear();
    this.held.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /**
   * A database that stops answering (a network partition, a host that hangs) rather than one that
   * refuses: open connections stay open and carry nothing, new ones are accepted and never answered.
   */
  hang(): void {
    this.hung = true;
    for (const sock of this.sockets) {
      sock.unpipe();
      sock.pause();
    }
  }

  /** Back on the same port (nothing to do when it is up); a hang ends with every connection dropped. */
  async restore(): Promise<void> {
    if (this.hung) {
      await this.cut();
      this.hung = false;
    }
    if (!this.server) await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

export interface ProxiedDatabase {
  /** the database's URL through the proxy */
  url: string;
  proxy: TcpProxy;
  /**
   * Cleanup: the proxy comes back up if a test left it cut (so the app's pool can close),
   * `stopApp` runs, then the proxy and the database go.
   */
  close(stopApp: () => Promise<unknown>): Promise<void>;
}

/** A fresh test database reached through a TcpProxy, for outage tests. */
export async function databaseBehindProxy(): Promise<ProxiedDatabase> {
  const db = await freshDatabase();
  const u = new URL(db.url);
  const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
  await proxy.start();
  u.host = `127.0.0.1:${proxy.port}`;
  return {
    url: u.toString(),
    proxy,
    async close(stopApp) {
      await proxy.restore();
      await stopApp();
      await proxy.stop();
      await db.drop();
    },
  };
}
