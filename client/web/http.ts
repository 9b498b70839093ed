/**
 * The web interface's HTTP side, on 127.0.0.1 only. Every request passes three gates before
 * anything is served:
 *
 * 1. the Host header names this listener (`127.0.0.1:PORT` or `localhost:PORT`), so a page on
 *    another site cannot reach it by re-pointing its own name at 127.0.0.1 (DNS rebinding);
 * 2. the session cookie, which only the one-time token in the printed address can obtain; the
 *    token is spent on first use, and the cookie is HttpOnly and SameSite=Strict, so other local
 *    users and other sites' pages have neither;
 * 3. for the WebSocket, an Origin of this listener, so no other site's page can open it.
 *
 * Every response carries a strict Content-Security-Policy (no inline script, nothing from
 * anywhere else), and the page, its script and its style sheet are built into the program.
 *
 * @module
 */

import { equalBytes, randomBytes } from "../../crypto/mod.ts";
import { INDEX_HTML, STYLE_CSS } from "./assets.ts";
import { APP_JS } from "./ui_bundle.gen.ts";
import type { WebApp } from "./app.ts";
import { type Action, ACTIONS } from "./view.ts";
import { roomActionOk } from "./room_parse.ts";

/** The session cookie's name. */
export const COOKIE_NAME = "pesuchat_session";
/** Largest message a page may send over the WebSocket (a long message and its JSON). */
export const MAX_ACTION_BYTES = 256 * 1024;
/** Bytes of randomness in the one-time token and in the session cookie. */
export const SECRET_BYTES = 32;

/** The Content-Security-Policy of every response. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

function b64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function sameSecret(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a), y = enc.encode(b);
  return x.length === y.length && equalBytes(x, y);
}

function reply(status: number, body: string, type = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, "content-type": type } });
}

function cookieOf(req: Request): string | null {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE_NAME) return v.join("=");
  }
  return null;
}

/** Parses one action from a page; null when it is not one. */
export function parseAction(data: unknown): Action | null {
  if (typeof data !== "string" || data.length > MAX_ACTION_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (!ACTIONS.includes(o.do as Action["do"])) return null;
  for (const [k, x] of Object.entries(o)) {
    const bool = k === "yes" || k === "backup";
    if (bool ? typeof x !== "boolean" : typeof x !== "string") return null;
  }
  const need: Partial<Record<Action["do"], string[]>> = {
    connect: ["server"],
    answer: ["yes"],
    signup: ["fullName", "email", "username", "password", "password2", "backup"],
    recoveryKey: ["key"],
    login: ["username", "password"],
    open: ["peer"],
    newChat: ["username"],
    send: ["text"],
    newRoom: ["name", "kind", "members"],
    joinRoom: ["code"],
    room: ["op"],
    message: ["op", "id"],
    changePassword: ["current", "next", "next2"],
    deleteAccount: ["password"],
  };
  for (const k of need[o.do as Action["do"]] ?? []) if (!(k in o)) return null;
  if (!roomActionOk(o)) return null;
  return o as unknown as Action;
}

/** A running web interface: its address (with the one-time token) and a way to stop it. */
export class WebServer {
  readonly port: number;
  #token: string | null = b64url(randomBytes(SECRET_BYTES));
  #session: string | null = null;
  readonly #http: Deno.HttpServer<Deno.NetAddr>;
  readonly #sockets = new Set<WebSocket>();
  readonly #app: WebApp;

  private constructor(app: WebApp, port: number) {
    this.#app = app;
    this.#http = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.port = this.#http.addr.port;
  }

  /** Listens on 127.0.0.1:`port` (0 picks a free port). */
  static start(app: WebApp, port = 0): WebServer {
    return new WebServer(app, port);
  }

  /** The address to open once: it carries the one-time token. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.#token ?? "spent"}`;
  }

  /** The address without the token. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) {
      try {
        ws.send(JSON.stringify({ type: "bye", text: "pesuchat web stopped; close this page" }));
        ws.close(1001, "stopping");
      } catch { /* already closing */ }
    }
    await this.#http.shutdown();
  }

  #hostOk(host: string | null): boolean {
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  #handle(req: Request): Response {
    const url = new URL(req.url);
    const host = req.headers.get("host");
    if (!this.#hostOk(host)) return reply(421, "pesuchat web: wrong Host header\n");
    if (req.method !== "GET") return reply(405, "pesuchat web: only GET is served\n");
    const token = url.searchParams.get("token");
    if (url.pathname === "/" && token !== null) return this.#exchange(token);
    const cookie = cookieOf(req);
    if (this.#session === null || cookie === null || !sameSecret(cookie, this.#session)) {
      return reply(
        401,
        "pesuchat web: not signed in to this page\n" +
          "open the address that 'pesuchat web' printed, in the browser you use\n",
      );
    }
    switch (url.pathname) {
      case "/":
        return reply(200, INDEX_HTML, "text/html; charset=utf-8");
      case "/app.js":
        return reply(200, APP_JS, "text/javascript; charset=utf-8");
      case "/style.css":
        return reply(200, STYLE_CSS, "text/css; charset=utf-8");
      case "/ws":
        return this.#upgrade(req, host!);
      default:
        return reply(404, "pesuchat web: nothing here\n");
    }
  }

  /** Spends the token: the first request with it gets the cookie, every later one is refused. */
  #exchange(token: string): Response {
    if (this.#token === null || !sameSecret(token, this.#token)) {
      return reply(
        403,
        "pesuchat web: this address was used already, or is wrong\n" +
          "start 'pesuchat web' again for a new one\n",
      );
    }
    this.#token = null;
    this.#session = b64url(randomBytes(SECRET_BYTES));
    return new Response(null, {
      status: 303,
      headers: {
        ...SECURITY_HEADERS,
        location: "/",
        "set-cookie": `${COOKIE_NAME}=${this.#session}; Path=/; HttpOnly; SameSite=Strict`,
      },
    });
  }

  #upgrade(req: Request, host: string): Response {
    if (req.headers.get("origin") !== `http://${host}`) {
      return reply(403, "pesuchat web: WebSocket from another origin refused\n");
    }
    if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
      return reply(426, "pesuchat web: expected a WebSocket\n");
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    let off: (() => void) | null = null;
    socket.onopen = () => {
      this.#sockets.add(socket);
      off = this.#app.subscribe((view) => {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "view", view }));
        }
      });
    };
    socket.onmessage = (e) => {
      const action = parseAction(e.data);
      if (!action) {
        socket.close(1008, "not a pesuchat action");
        return;
      }
      this.#app.act(action);
    };
    socket.onclose = () => {
      off?.();
      this.#sockets.delete(socket);
    };
    return response;
  }
}
