/**
 * Running shoal processes on other hosts: over SSH (the system OpenSSH client, BatchMode, so it
 * never prompts) or, for `type: local`, on this host through the same shell script.
 *
 * Every remote step is one `bash -s` whose script arrives on stdin: secrets it carries (the cluster
 * token, a private key for the head's autoscaler) are written to 0600 files on the far side and never
 * appear on a command line that `ps` shows. A started process is detached (`setsid`, its output in
 * files), and its pid is kept in `<sessionDir>/pids/<name>.pid`, so stopping needs nothing but the
 * session folder: `shoal down`, the head's autoscaler and a crashed `shoal up` all find the same pids.
 */
import { spawn } from 'node:child_process';
import { ShoalError } from '../errors.js';
import { runtimeEntryRelative } from '../paths.js';

/** How to reach one host. */
export interface HostTarget {
  /** `ssh`: over OpenSSH; `local`: a shell on this host (the address is only used to bind). */
  kind: 'ssh' | 'local';
  /** Address (or name) of the host. */
  host: string;
  /** SSH user. @default the current user */
  user?: string | undefined;
  /** SSH port. @default 22 */
  port?: number | undefined;
  /** SSH private key file. */
  privateKey?: string | undefined;
  /** known_hosts file; new host keys are added to it (StrictHostKeyChecking=accept-new). */
  knownHostsFile?: string | undefined;
  /** Give up connecting after this many seconds. @default 5 */
  connectTimeoutS?: number | undefined;
}

/** Where shoal lives on the hosts and where its processes keep state. */
export interface RemoteRuntime {
  /** Folder of the shoal package on the hosts (holds dist/). */
  installDir: string;
  /** Node.js executable on the hosts. @default 'node' */
  nodePath: string;
  /** Absolute folder for state, logs and pid files on the hosts. */
  sessionDir: string;
  /** Extra environment of the started processes. */
  env: Record<string, string>;
}

/** A host could not be reached (SSH failed to connect or to authenticate). */
export class HostUnreachableError extends ShoalError {
  override readonly code = 'HOST_UNREACHABLE';
  constructor(readonly host: string, readonly reason: string) {
    super(`cannot reach host ${host} over SSH: ${reason}`);
  }
  override context() {
    return { host: this.host, reason: this.reason };
  }
}

/** A head or worker on a host exited, or never said it was ready. `detail` quotes its stderr. */
export class RemoteStartError extends ShoalError {
  override readonly code = 'REMOTE_START';
  constructor(readonly host: string, readonly role: string, readonly detail: string) {
    super(`the shoal ${role} on ${host} failed to start: ${detail}`);
  }
  override context() {
    return { host: this.host, role: this.role, detail: this.detail };
  }
}

/** Quotes `s` for bash. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** SSH exits with 255 when it cannot connect or authenticate; the script's own codes stay below. */
const SSH_FAILED = 255;

/** The `ssh` arguments reaching `t` (without the command). */
export function sshArgs(t: HostTarget): string[] {
  const args = [
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${t.connectTimeoutS ?? 5}`,
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'LogLevel=ERROR',
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-p', String(t.port ?? 22),
  ];
  if (t.knownHostsFile) args.push('-o', `UserKnownHostsFile=${t.knownHostsFile}`);
  if (t.privateKey) args.push('-i', t.privateKey, '-o', 'IdentitiesOnly=yes');
  args.push(t.user ? `${t.user}@${t.host}` : t.host);
  return args;
}

/**
 * Runs `script` with bash on `t` (script on stdin). Rejects with HostUnreachableError when SSH
 * cannot connect, or when the whole run exceeds `timeoutMs`; otherwise resolves with the exit code.
 */
export function runScript(t: HostTarget, script: string, timeoutMs = 60_000): Promise<ScriptResult> {
  const [cmd, args] = t.kind === 'ssh' ? ['ssh', [...sshArgs(t), 'bash -s']] : ['bash', ['-s']];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // the far side may close stdin early (connection refused)
  child.stdin.end(script);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HostUnreachableError(t.host, `no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new HostUnreachableError(t.host, `cannot run ${cmd}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (t.kind === 'ssh' && code === SSH_FAILED) {
        const why = stderr.trim().split('\n').filter(Boolean).pop() ?? 'ssh exited with code 255';
        reject(new HostUnreachableError(t.host, `${why} (ssh ${t.user ? `${t.user}@` : ''}${t.host} port ${t.port ?? 22})`));
        return;
      }
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export interface StartOptions {
  /** Unique name of the process on its host (pid and log files are named after it). */
  name: string;
  /** Files to write (mode 0600) in the session folder before starting, e.g. the token. */
  secrets?: Record<string, string>;
  /** Seconds to wait for the process to be ready. @default 30 */
  readyTimeoutS?: number;
}

export interface StartedRemote {
  pid: number;
  /** What the process announced on its SHOAL_READY line. */
  info: Record<string, unknown>;
}

const SAFE_NAME = /^[A-Za-z0-9_.@:-]+$/;

/**
 * Starts `dist/src/core/process/<role>-main.js` detached on `t` with `config` and waits for its
 * SHOAL_READY line. Rejects with HostUnreachableError or RemoteStartError (quoting stderr).
 */
export async function startRemote(
  t: HostTarget, rt: RemoteRuntime, role: 'head' | 'worker', config: unknown, opts: StartOptions,
): Promise<StartedRemote> {
  if (!SAFE_NAME.test(opts.name)) throw new Error(`bad process name ${opts.name}`);
  const q = shellQuote;
  const readyS = opts.readyTimeoutS ?? 30;
  const entry = runtimeEntryRelative(`${role}-main.js`);
  const envs = Object.entries({ ...rt.env, SHOAL_ROLE: role }).map(([k, v]) => `${k}=${q(v)}`).join(' ');
  const secrets = Object.entries(opts.secrets ?? {})
    .map(([file, content]) => `printf '%s' ${q(content)} > "$D"/${q(file)}`)
    .join('\n');
  const encoded = Buffer.from(JSON.stringify(config)).toString('base64url');
  const script = `set -u
D=${q(rt.sessionDir)}; N=${q(opts.name)}
# why it failed: the entry's own "failed to start" line, else the last lines that are not stack frames
why() { grep -m2 'failed to start' "$D/logs/$N.err" >&2 || grep -v -e '^ *at ' -e '^{' -e '^ *$' -e '^Node.js v' "$D/logs/$N.err" | tail -n 3 >&2; }
mkdir -p "$D/logs" "$D/pids" || exit 3
(umask 077
${secrets}
) || exit 3
cd ${q(rt.installDir)} 2>/dev/null || { echo "shoal is not installed in ${rt.installDir} (install_dir) on this host" >&2; exit 3; }
[ -f ${entry} ] || { echo "${rt.installDir}/${entry} is missing on this host: build shoal there (npm run build)" >&2; exit 3; }
command -v ${q(rt.nodePath)} >/dev/null || { echo "node (${rt.nodePath}) not found on this host" >&2; exit 3; }
: > "$D/logs/$N.out"
SHOAL_LOG_FILE="$D/logs/$N.log" ${envs} setsid ${q(rt.nodePath)} ${entry} ${encoded} > "$D/logs/$N.out" 2> "$D/logs/$N.err" < /dev/null &
pid=$!
echo "$pid" > "$D/pids/$N.pid"
i=0
while [ "$i" -lt ${readyS * 10} ]; do
  if line=$(grep -m1 '^SHOAL_READY ' "$D/logs/$N.out"); then echo "PID $pid"; echo "$line"; exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then rm -f "$D/pids/$N.pid"; echo "it exited before it was ready:" >&2; why; exit 4; fi
  sleep 0.1; i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null; rm -f "$D/pids/$N.pid"
echo "it was not ready after ${readyS} s:" >&2; why; exit 5
`;
  const r = await runScript(t, script, (readyS + 30) * 1000);
  const pid = /^PID (\d+)$/m.exec(r.stdout);
  const ready = /^SHOAL_READY (.*)$/m.exec(r.stdout);
  if (r.code !== 0 || !pid || !ready) {
    const detail = r.stderr.trim().split('\n').filter(Boolean).join(' | ') || `exit code ${r.code}`;
    throw new RemoteStartError(t.host, role, detail);
  }
  return { pid: Number(pid[1]), info: JSON.parse(ready[1]!) as Record<string, unknown> };
}

export interface StoppedRemote {
  name: string;
  pid: number;
  outcome: 'stopped' | 'killed' | 'not-running';
}

/**
 * Stops the processes whose pid files in the session folder match `pattern` (a shell glob over
 * names, e.g. `*@10.0.0.5@*`): SIGTERM, then SIGKILL after `graceS`. A pid that no longer runs a
 * shoal entry is left alone. Idempotent: pid files are removed.
 */
export async function stopRemote(t: HostTarget, rt: RemoteRuntime, pattern: string, graceS = 5): Promise<StoppedRemote[]> {
  if (!/^[A-Za-z0-9_.@:*-]+$/.test(pattern)) throw new Error(`bad name pattern ${pattern}`);
  const script = `set -u
D=${shellQuote(rt.sessionDir)}
[ -d "$D/pids" ] || exit 0
live=""
for f in "$D"/pids/${pattern}.pid; do
  [ -f "$f" ] || continue
  n=$(basename "$f" .pid); pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null && tr '\\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -q -- '-main.js'; then
    kill -TERM "$pid"; live="$live $n:$pid"
  else
    echo "STOP $n $pid not-running"; rm -f "$f"
  fi
done
i=0
while [ "$i" -lt ${graceS * 10} ]; do
  any=0
  for e in $live; do kill -0 "\${e#*:}" 2>/dev/null && any=1; done
  [ "$any" = 0 ] && break
  sleep 0.1; i=$((i + 1))
done
for e in $live; do
  n=\${e%%:*}; pid=\${e#*:}
  if kill -0 "$pid" 2>/dev/null; then kill -9 -- "-$pid" "$pid" 2>/dev/null; echo "STOP $n $pid killed"; else echo "STOP $n $pid stopped"; fi
  rm -f "$D/pids/$n.pid"
done
`;
  const r = await runScript(t, script, (graceS + 30) * 1000);
  if (r.code !== 0) throw new RemoteStartError(t.host, 'stop', r.stderr.trim() || `exit code ${r.code}`);
  return [...r.stdout.matchAll(/^STOP (\S+) (\d+) (\S+)$/gm)].map((m) => ({ name: m[1]!, pid: Number(m[2]), outcome: m[3] as StoppedRemote['outcome'] }));
}

/** Reads a file on `t` (e.g. the head's token); rejects when it is missing. */
export async function readRemoteFile(t: HostTarget, path: string): Promise<string> {
  const r = await runScript(t, `cat ${shellQuote(path)}`, 30_000);
  if (r.code !== 0) throw new RemoteStartError(t.host, 'head', `cannot read ${path}: ${r.stderr.trim()}`);
  return r.stdout;
}
