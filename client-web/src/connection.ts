// The WebSocket to the server: join, reconnect with backoff, measure ping, count traffic.
//
// A refusal (bad input, a full session) is final and shown with the server's reason;
// anything else that ends the connection is retried, waiting twice as long each time.
// In a cluster, a node that does not run the session closes with 4007 and the owner's
// URL: the connection goes there at once with the same first message. Any later loss
// starts again from the page's own server, which knows where the session went.

import { SUBPROTOCOL, decodeServer, encodeClient, type ClientMessage, type ServerMessage } from "./protocol";

export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "reconnecting"; attempt: number; inMs: number }
  | { kind: "refused"; reason: string }
  /** This page left on purpose (Leave, or the page closing). */
  | { kind: "left" };

/** Close codes after which retrying cannot help. */
const FINAL_CODES = new Set([1003, 1007, 1008, 1009, 4001, 4002, 4005, 4006]);
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;
const PING_EVERY_MS = 2000;
/** A cluster node sends the client to the node that owns its session. */
const MOVED = 4007;
/** Redirects followed in a row without a welcome before giving up. */
const MAX_REDIRECTS = 5;

/** The URL a MOVED close names, if it is a WebSocket URL. */
export function movedTo(code: number, reason: string): string | null {
  return code === MOVED && /^wss?:\/\/[^\s/?#]+(\/[^\s?#]*)?\/ws$/.test(reason) ? reason : null;
}


export class Connection {
  /** Round-trip time of the last ping, ms. */
  pingMs: number | null = null;
  /** Frames and bytes received, for the stats overlay. */
  frames = 0;
  bytes = 0;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** No reconnect before this time (ms): a simulated network outage. */
  private outageUntil = 0;
  /** Where a cluster node sent this connection, until it is lost. */
  private target: string | null = null;
  private redirects = 0;

  constructor(
    private readonly url: string,
    /** The first message of each connection: a game page's Hello (made anew each
     *  time, to carry the latest reconnect token), or a controller's Pair. */
    private readonly first: () => ClientMessage,
    private readonly onMessage: (message: ServerMessage) => void,
    private readonly onState: (state: ConnectionState) => void,
  ) {}

  open(): void {
    this.onState({ kind: "connecting" });
    const ws = new WebSocket(this.target ?? this.url, SUBPROTOCOL);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.send(this.first());
      this.pinger = setInterval(() => this.send({ Ping: { client_time: Math.floor(performance.now()) >>> 0 } }), PING_EVERY_MS);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      const bytes = new Uint8Array(event.data);
      this.frames += 1;
      this.bytes += bytes.length;
      let message: ServerMessage;
      try {
        message = decodeServer(bytes);
      } catch (err) {
        console.error("undecodable server frame", err);
        return;
      }
      if ("Welcome" in message || "Paired" in message) {
        this.attempt = 0;
        this.redirects = 0;
        this.onState({ kind: "connected" });
      } else if ("Pong" in message) {
        this.pingMs = ((Math.floor(performance.now()) >>> 0) - message.Pong.client_time) >>> 0;
      }
      this.onMessage(message);
    };
    ws.onclose = (event: CloseEvent) => {
      this.clearTimers();
      if (this.stopped) return;
      const moved = movedTo(event.code, event.reason);
      if (moved && this.redirects < MAX_REDIRECTS) {
        this.redirects += 1;
        this.target = moved;
        this.open();
        return;
      }
      this.target = null;
      if (moved) {
        this.onState({ kind: "refused", reason: "the servers kept sending this game elsewhere: try again shortly" });
        return;
      }
      if (FINAL_CODES.has(event.code)) {
        this.onState({ kind: "refused", reason: event.reason || `closed with code ${event.code}` });
        return;
      }
      this.attempt += 1;
      const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.attempt - 1)) * (0.8 + Math.random() * 0.4);
      const inMs = Math.max(backoff, this.outageUntil - performance.now());
      this.onState({ kind: "reconnecting", attempt: this.attempt, inMs });
      this.retry = setTimeout(() => this.open(), inMs);
    };
  }

  /** The server this connection is on (or trying): a cluster node it was sent to, or
   *  the page's own. */
  get server(): string {
    return this.target ?? this.url;
  }

  send(message: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeClient(message));
  }

  /** Drops the socket the way a network loss would, for an outage of `outageMs`
   *  (the client reconnects by itself after it): for tests and for trying the
   *  reconnect path by hand. */
  simulateDrop(outageMs = 0): void {
    this.outageUntil = performance.now() + outageMs;
    this.ws?.close(4000, "simulated network drop");
  }

  /**
   * Leaves for good: says `Leave` and closes with 1000, so the server lets the player go
   * at once rather than keep its seat for a reconnect that will not come. Safe to call
   * while the page is being closed.
   */
  leave(): void {
    if (this.stopped) return;
    this.send("Leave");
    this.stopped = true;
    this.clearTimers();
    this.ws?.close(1000, "leaving");
    this.onState({ kind: "left" });
  }

  private clearTimers(): void {
    if (this.pinger) clearInterval(this.pinger);
    if (this.retry) clearTimeout(this.retry);
    this.pinger = this.retry = null;
  }
}
