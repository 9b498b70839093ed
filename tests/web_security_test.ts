import assert from "node:assert/strict";
import { COOKIE_NAME, CSP, MAX_ACTION_BYTES, parseAction } from "../client/web/http.ts";
import {
  MAX_MEMBERS_CHARS,
  MAX_MESSAGE_ID_HEX,
  MAX_ROOM_ARG_CHARS,
} from "../client/web/room_parse.ts";
import { ROOM_OPS } from "../client/web/view.ts";
import { MAX_REACTION_CHARS } from "../client/content_actions.ts";
import { MAX_TEXT_CHARS } from "../client/content_limits.ts";
import { MAX_GROUP_NAME_CHARS } from "../client/rooms/group_change.ts";
import { startWeb } from "./support/browser.ts";

/** One HTTP/1.1 request over a raw TCP socket, with exactly the headers given. */
async function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Map<string, string> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    await conn.write(
      new TextEncoder().encode(lines.join("\r\n") + "\r\nConnection: close\r\n\r\n"),
    );
    let text = "";
    const buf = new Uint8Array(16384);
    const deadline = Date.now() + 20_000;
    while (!text.includes("\r\n\r\n") && Date.now() < deadline) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const [head] = text.split("\r\n\r\n");
    const [statusLine, ...rest] = head!.split("\r\n");
    const map = new Map<string, string>();
    for (const l of rest) {
      const i = l.indexOf(":");
      map.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    return { status: Number(statusLine!.split(" ")[1]), headers: map };
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "pesuchat web: the token works once; no cookie, a wrong Host or another Origin is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const web = await startWeb(null);
    try {
      const port = web.http.port;
      const host = `127.0.0.1:${port}`;
      const path = new URL(web.url).pathname + new URL(web.url).search;

      // Without the cookie nothing is served, not even the script.
      for (const p of ["/", "/app.js", "/style.css", "/ws"]) {
        assert.equal((await rawRequest(port, p, { Host: host })).status, 401, p);
      }
      // A wrong token is refused and does not spend the real one.
      assert.equal((await rawRequest(port, "/?token=guess", { Host: host })).status, 403);
      // The token through another Host name (DNS rebinding) is refused before it is looked at.
      assert.equal((await rawRequest(port, path, { Host: `evil.example:${port}` })).status, 421);

      // The token, once: a session cookie that scripts cannot read and other sites cannot send.
      const first = await rawRequest(port, path, { Host: host });
      assert.equal(first.status, 303);
      assert.equal(first.headers.get("location"), "/");
      const setCookie = first.headers.get("set-cookie")!;
      assert.match(setCookie, new RegExp(`^${COOKIE_NAME}=[A-Za-z0-9_-]{43}; `));
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Strict/);
      const cookie = setCookie.split(";")[0]!;
      assert.equal((await rawRequest(port, path, { Host: host })).status, 403, "token reused");
      assert.equal(web.http.url.includes(path), false);

      // With the cookie: the page, under a strict policy.
      const page = await rawRequest(port, "/", { Host: host, Cookie: cookie });
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("content-security-policy"), CSP);
      assert.match(CSP, /default-src 'self'/);
      assert.doesNotMatch(CSP, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(page.headers.get("x-content-type-options"), "nosniff");
      assert.equal(page.headers.get("referrer-policy"), "no-referrer");
      assert.equal((await rawRequest(port, "/app.js", { Host: host, Cookie: cookie })).status, 200);
      assert.equal(
        (await rawRequest(port, "/", { Host: `localhost:${port}`, Cookie: cookie })).status,
        200,
      );
      // A cookie with a wrong value, or the right one behind a wrong Host, is refused.
      assert.equal(
        (await rawRequest(port, "/", { Host: host, Cookie: `${COOKIE_NAME}=x${cookie}` })).status,
        401,
      );
      assert.equal(
        (await rawRequest(port, "/", { Host: `attacker.test:${port}`, Cookie: cookie })).status,
        421,
      );

      // The WebSocket: only from this listener's own origin, and only with the cookie.
      const ws = {
        Host: host,
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      };
      assert.equal(
        (await rawRequest(port, "/ws", { ...ws, Origin: `http://${host}` }))
          .status,
        401,
      );
      for (const origin of ["http://evil.example", `http://localhost:${port + 1}`, "null"]) {
        const r = await rawRequest(port, "/ws", { ...ws, Cookie: cookie, Origin: origin });
        assert.equal(r.status, 403, origin);
      }
      const ok = await rawRequest(port, "/ws", { ...ws, Cookie: cookie, Origin: `http://${host}` });
      assert.equal(ok.status, 101);
    } finally {
      await web.close();
    }
  },
});

Deno.test("parseAction() takes the page's actions and nothing else", () => {
  assert.deepEqual(parseAction(JSON.stringify({ do: "send", text: "hi" })), {
    do: "send",
    text: "hi",
  });
  assert.deepEqual(parseAction(JSON.stringify({ do: "answer", yes: true })), {
    do: "answer",
    yes: true,
  });
  assert.equal(parseAction("not json"), null);
  assert.equal(parseAction(JSON.stringify({ do: "eval", code: "1" })), null);
  assert.equal(parseAction(JSON.stringify({ do: "send" })), null);
  assert.equal(parseAction(JSON.stringify({ do: "send", text: 5 })), null);
  assert.equal(parseAction(JSON.stringify({ do: "answer", yes: "yes" })), null);
  assert.equal(parseAction(JSON.stringify(["send", "hi"])), null);
  assert.equal(parseAction(new ArrayBuffer(4)), null);
  // The size limit, at N and N + 1.
  const at = JSON.stringify({ do: "send", text: "" });
  const fill = (n: number) => JSON.stringify({ do: "send", text: "x".repeat(n - at.length) });
  assert.notEqual(parseAction(fill(MAX_ACTION_BYTES)), null);
  assert.equal(parseAction(fill(MAX_ACTION_BYTES + 1)), null);
});

Deno.test("parseAction() checks room and message actions: operations, ids and sizes", () => {
  const ok = (a: Record<string, unknown>) => assert.deepEqual(parseAction(JSON.stringify(a)), a);
  const bad = (a: Record<string, unknown>) => assert.equal(parseAction(JSON.stringify(a)), null);
  const id = "ab".repeat(16);
  ok({ do: "newRoom", name: "team", kind: "group", members: "bob, cat" });
  ok({ do: "newRoom", name: "news", kind: "channel", members: "" });
  bad({ do: "newRoom", name: "team", kind: "club", members: "" });
  bad({ do: "newRoom", name: "team", kind: "group" });
  ok({ do: "newRoom", name: "n".repeat(MAX_GROUP_NAME_CHARS), kind: "group", members: "" });
  bad({ do: "newRoom", name: "n".repeat(MAX_GROUP_NAME_CHARS + 1), kind: "group", members: "" });
  ok({ do: "newRoom", name: "n", kind: "group", members: "m".repeat(MAX_MEMBERS_CHARS) });
  bad({ do: "newRoom", name: "n", kind: "group", members: "m".repeat(MAX_MEMBERS_CHARS + 1) });
  ok({ do: "joinRoom", code: "c".repeat(MAX_ROOM_ARG_CHARS) });
  bad({ do: "joinRoom", code: "c".repeat(MAX_ROOM_ARG_CHARS + 1) });
  for (const op of ROOM_OPS) ok({ do: "room", op, arg: "bob" });
  ok({ do: "room", op: "leave" });
  bad({ do: "room", op: "destroy", arg: "bob" });
  bad({ do: "room", op: "add", arg: 5 });
  bad({ do: "room", op: "add", arg: "b".repeat(MAX_ROOM_ARG_CHARS + 1) });
  ok({ do: "send", text: "hi", reply: id });
  bad({ do: "send", text: "hi", reply: "not hex" });
  ok({ do: "message", op: "delete", id: "a".repeat(MAX_MESSAGE_ID_HEX) });
  bad({ do: "message", op: "delete", id: "a".repeat(MAX_MESSAGE_ID_HEX + 2) });
  bad({ do: "message", op: "delete", id: "abc" });
  bad({ do: "message", op: "delete", id: "" });
  bad({ do: "message", op: "delete", id: "zz" });
  bad({ do: "message", op: "delete", id, text: "extra" });
  bad({ do: "message", op: "burn", id });
  for (const op of ["pin", "unpin", "unreact"]) ok({ do: "message", op, id });
  ok({ do: "message", op: "react", id, text: "x".repeat(MAX_REACTION_CHARS) });
  bad({ do: "message", op: "react", id, text: "x".repeat(MAX_REACTION_CHARS + 1) });
  ok({ do: "message", op: "edit", id, text: "x".repeat(MAX_TEXT_CHARS) });
  bad({ do: "message", op: "edit", id, text: "x".repeat(MAX_TEXT_CHARS + 1) });
  bad({ do: "message", op: "edit", id });
});
