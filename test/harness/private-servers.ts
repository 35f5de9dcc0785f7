/**
 * Private PostgreSQL and NATS servers for fault tests (restarts, kills): each in a temp directory
 * on a port of its own, so restarting it never disturbs the shared servers other tests use.
 * PostgreSQL refuses to run as root, so when the tests run as root its commands run as the
 * `postgres` user (runuser). Everything is removed by `stop()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function pgBin(name: string): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} not found under /usr/lib/postgresql/*/bin (install the postgresql package)`);
}

const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

/** A PostgreSQL instance of its own (wal_level = logical), trust auth, database `postgres`. */
export class PrivatePostgres {
  private constructor(readonly dir: string, readonly port: number) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: g } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(g.trim()));
    }
    const port = await freePort();
    const p = new PrivatePostgres(dir, port);
    const [cmd, args] = asPostgres(pgBin('initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await run(cmd, args);
    await p.pgCtl('start');
    return p;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async pgCtl(action: 'start' | 'stop' | 'restart'): Promise<void> {
    const opts = `-c wal_level=logical -c port=${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`;
    const args = action === 'stop' ? ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop'] : ['-D', join(this.dir, 'data'), '-o', opts, '-l', join(this.dir, 'log'), '-m', 'fast', '-w', '-t', '120', action];
    const [cmd, a] = asPostgres(pgBin('pg_ctl'), args);
    await run(cmd, a);
  }

  /** Restarts the server (fast shutdown: connections are cut). */
  async restart(): Promise<void> {
    await this.pgCtl('restart');
  }

  /** Runs SQL on the server. */
  async query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  }

  async stop(): Promise<void> {
    await this.pgCtl('stop').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A NATS server with JetStream of its own (`nats-server -p <port> -js -sd <tmp>`). */
export class PrivateNats {
  private proc: ChildProcess | undefined;
  private constructor(readonly dir: string, readonly port: number) {}

  static async start(): Promise<PrivateNats> {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-nats-'));
    const n = new PrivateNats(dir, await freePort());
    await n.spawn();
    return n;
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async spawn(): Promise<void> {
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`nats-server did not start in 60 s: ${out}`)), 60_000);
      proc.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Server is ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`nats-server exited with ${code}: ${out}`));
      });
    });
    proc.removeAllListeners('exit');
  }

  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  private async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
