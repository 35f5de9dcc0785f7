/**
 * The client side of a session with the head, shared by drivers and workers: hello and welcome
 * (a refusal is the head's typed error, e.g. VersionMismatchError), and when the session breaks
 * after it was open (the head died or restarts), reconnecting with backoff under the same session
 * id, re-reporting what this process holds, while messages sent meanwhile wait in order and go out
 * once the head is back. What differs between a driver and a worker (the hello's fields, the
 * report, what to remember of a sent message, what to do when the head does not come back) are
 * {@link SessionHooks}.
 */
import { hostname } from 'node:os';
import { PROTOCOL_VERSION } from '../constants.js';
import { AuthenticationError, ConnectionError, errorFromWire, VersionMismatchError } from '../errors.js';
import { SHOAL_VERSION } from '../paths.js';
import { HeadClient, reconnectTimeoutMs, withBackoff } from './head-client.js';
import type { ClientMsg, HeadMsg, HelloMsg, ResumeReport, WelcomeMsg } from './protocol.js';
import { connectionFailure, SessionChannel, type TlsOptions } from './transport.js';

export interface SessionClientOptions {
  address: string;
  token: string;
  tls?: TlsOptions | undefined;
  /** Names this end in traces (`driver`, `worker n1`). */
  label: string;
  /** See {@link reconnectTimeoutMs}. */
  reconnectTimeoutMs?: number | undefined;
}

export interface SessionHooks {
  /** The role's own fields of the hello (role, node id and resources, job id, ...). */
  hello(): Omit<HelloMsg, 't' | 'version' | 'protocol' | 'pid' | 'hostname' | 'resume'>;
  /** What a restarted head needs again (sent with the hello that resumes the session). */
  report(): Omit<ResumeReport, 'sessionId'>;
  /** A message from the head (other than the welcome and a refusal). */
  onMessage(msg: HeadMsg): void;
  /** The head welcomed this process (`resumed`: after a loss); runs before the held messages go out. */
  onWelcome?(msg: WelcomeMsg, resumed: boolean): void;
  /** A message goes out on a live session. */
  onSend?(msg: ClientMsg): void;
  /** A message sent while there is no session: true holds it until there is one, false drops it. */
  hold?(msg: ClientMsg): boolean;
  /** Before each attempt to resume, with the new client (a driver uploads its code bundles again). */
  beforeResume?(head: HeadClient): Promise<void>;
  /** The session broke; reconnecting for up to `timeoutMs` starts. */
  onLost?(cause: Error, timeoutMs: number): void;
  /** The session is back after a loss. */
  onResumed?(): void;
  /** The session is not coming back: the reconnect timeout passed, or the head refused this process. */
  onGiveUp(err: Error, cause: Error, timeoutMs: number): void;
  /** True once this process is shutting down: a lost session is not resumed then. */
  stopping?(): boolean;
}

/** A refusal no retry can change. */
const refusedForGood = (err: unknown): boolean => err instanceof VersionMismatchError || err instanceof AuthenticationError;

export class SessionClient {
  /** The client of the head's other calls (control, bundles); replaced when the session is resumed. */
  head: HeadClient;
  sessionId = '';
  private channel?: SessionChannel<HeadMsg, ClientMsg> | undefined;
  private connected = false;
  private reconnecting = false;
  private closed = false;
  /** Messages sent while there was no session, in order. */
  private held: ClientMsg[] = [];

  constructor(private readonly options: SessionClientOptions, private readonly hooks: SessionHooks) {
    this.head = this.newHead();
  }

  /** Whether the session was lost and is being resumed. */
  get isReconnecting(): boolean {
    return this.reconnecting;
  }

  /** The messages waiting for a session. */
  get heldMessages(): readonly ClientMsg[] {
    return this.held;
  }

  /** Opens the session and waits for the welcome; rejects with the head's refusal or a ConnectionError. */
  open(): Promise<void> {
    return this.openSession(undefined);
  }

  /** Sends on the session; while there is none, holds the message (unless `hooks.hold` drops it). */
  send(msg: ClientMsg): void {
    if (this.connected) {
      this.hooks.onSend?.(msg);
      this.channel!.send(msg);
    } else if (this.hooks.hold?.(msg) ?? true) this.held.push(msg);
  }

  /** Forgets the held messages (a worker the head reset). */
  dropHeld(): void {
    this.held = [];
  }

  /** Sends what is queued, ends the session and stops reconnecting. */
  close(): void {
    this.closed = true;
    this.connected = false;
    this.channel?.end();
    this.head.close();
  }

  private newHead(): HeadClient {
    return new HeadClient({ address: this.options.address, token: this.options.token, tls: this.options.tls });
  }

  /** Opens a session stream (with `resume`, the lost one's id and report) and waits for the welcome. */
  private openSession(resume: ResumeReport | undefined): Promise<void> {
    const stream = this.head.session();
    return new Promise<void>((resolve, reject) => {
      let welcomed = false;
      this.channel = new SessionChannel<HeadMsg, ClientMsg>(
        stream,
        this.options.label,
        (msg) => {
          if (msg.t === 'welcome') {
            welcomed = true;
            this.sessionId = msg.sessionId;
            this.connected = true;
            this.hooks.onWelcome?.(msg, !!resume);
            const held = this.held;
            this.held = [];
            for (const m of held) this.send(m);
            resolve();
          } else if (msg.t === 'refused') reject(errorFromWire(msg.error));
          else this.hooks.onMessage(msg);
        },
        (err) => {
          const cause = err ? connectionFailure(this.options.address, err) : new ConnectionError(this.options.address, 'the head closed the session');
          if (welcomed) this.lost(cause);
          else reject(cause);
        },
      );
      this.channel.send({
        t: 'hello', ...this.hooks.hello(), version: SHOAL_VERSION, protocol: PROTOCOL_VERSION, pid: process.pid, hostname: hostname(), resume,
      });
    });
  }

  /**
   * The session broke after it was open. Messages are held; the session is opened again with
   * backoff and this process re-reports what it has; past the reconnect timeout, or refused for
   * good, `hooks.onGiveUp` decides what becomes of this process.
   */
  private lost(cause: Error): void {
    this.connected = false;
    if (this.done() || this.reconnecting) return;
    this.reconnecting = true;
    const timeoutMs = reconnectTimeoutMs(this.options.reconnectTimeoutMs);
    this.hooks.onLost?.(cause, timeoutMs);
    void withBackoff(async () => {
      this.head.close();
      this.head = this.newHead();
      await this.hooks.beforeResume?.(this.head);
      await this.openSession({ sessionId: this.sessionId, ...this.hooks.report() });
    }, { timeoutMs, cancelled: () => this.done(), fatal: refusedForGood }).then(
      () => {
        this.reconnecting = false;
        this.hooks.onResumed?.();
      },
      (err: Error) => {
        this.reconnecting = false;
        if (!this.done()) this.hooks.onGiveUp(err, cause, timeoutMs);
      },
    );
  }

  private done(): boolean {
    return this.closed || (this.hooks.stopping?.() ?? false);
  }
}
