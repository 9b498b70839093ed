import assert from "node:assert/strict";
import { DEFAULT_KDF_PARAMS, LEGACY_KDF_PARAMS, randomBytes } from "../crypto/mod.ts";
import { ServerError } from "../client/connection.ts";
import {
  MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS,
  MAX_FAILED_LOGINS_PER_ADDRESS,
} from "../protocol/limits.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import {
  rawClient,
  rawClientFrom,
  restartTestServer,
  signUp,
  startTestServer,
} from "./support/server.ts";

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => e instanceof ServerError && e.code === code);
}

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] signup then login; duplicates, wrong passwords and unknown users refused`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const authKey = await signUp(a, "alice", "Alice Example");
      const b = await rawClient(t.port);
      await rejectsCode(signUp(b, "alice"), "username_taken");
      await rejectsCode(signUp(b, "ALICE"), "username_taken");
      await rejectsCode(signUp(b, "аlice"), "invalid_username");
      await rejectsCode(
        b.conn.request("login", { username: "alice", authKey: randomBytes(32) }),
        "bad_credentials",
      );
      await rejectsCode(
        b.conn.request("login", { username: "nobody_here", authKey }),
        "bad_credentials",
      );
      const info = await b.conn.request("login", { username: "Alice", authKey });
      assert.equal(info.username, "alice");
      assert.equal(info.fullName, "Alice Example");
      assert.equal(info.prekeys.oneTime, 5);
      assert.ok(t.log.some((l) => l.includes("login failed") && l.includes("user=alice")));
      assert.ok(!t.log.some((l) => l.includes("Alice Example")), "full names never reach the log");
      b.conn.close();
      a.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] a stranger's failed logins slow the stranger, not the owner elsewhere, and survive a restart`, async () => {
    let t = await startTestServer(kind);
    try {
      const owner = await rawClient(t.port);
      const authKey = await signUp(owner, "carol");
      owner.conn.close();
      const n = MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS;
      const stranger = await rawClientFrom(t.port, "127.0.0.2");
      for (let i = 0; i < n; i++) {
        await rejectsCode(
          stranger.conn.request("login", { username: "carol", authKey: randomBytes(32) }),
          "bad_credentials",
        );
      }
      // From the stranger's address even the right key is refused now…
      await rejectsCode(
        stranger.conn.request("login", { username: "carol", authKey }),
        "rate_limited",
      );
      stranger.conn.close();
      // …but the owner, from another address, logs in.
      const home = await rawClientFrom(t.port, "127.0.0.3");
      assert.equal(
        (await home.conn.request("login", { username: "carol", authKey })).username,
        "carol",
      );
      home.conn.close();

      // A restarted server (or another node on the database) still holds the stranger back.
      t = await restartTestServer(t);
      const again = await rawClientFrom(t.port, "127.0.0.2");
      await rejectsCode(
        again.conn.request("login", { username: "carol", authKey }),
        "rate_limited",
      );
      again.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] one address gets MAX_FAILED_LOGINS_PER_ADDRESS failures over any accounts, then waits`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const authKey = await signUp(a, "dora");
      a.conn.close();
      const guesser = await rawClientFrom(t.port, "127.0.0.4");
      for (let i = 0; i < MAX_FAILED_LOGINS_PER_ADDRESS; i++) {
        await rejectsCode(
          guesser.conn.request("login", { username: `nobody${i}`, authKey: randomBytes(32) }),
          "bad_credentials",
        );
      }
      await rejectsCode(
        guesser.conn.request("login", { username: "dora", authKey }),
        "rate_limited",
      );
      guesser.conn.close();
      const other = await rawClientFrom(t.port, "127.0.0.5");
      assert.equal(
        (await other.conn.request("login", { username: "dora", authKey })).username,
        "dora",
      );
      other.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] prelogin for an unknown user has the shape of a real answer and is stable`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      await signUp(a, "dave");
      const real = await a.conn.request("prelogin", { username: "dave" });
      const fake1 = await a.conn.request("prelogin", { username: "erin" });
      const fake2 = await a.conn.request("prelogin", { username: "erin" });
      const fake3 = await a.conn.request("prelogin", { username: "frank" });
      assert.deepEqual(Object.keys(fake1).sort(), Object.keys(real).sort());
      assert.deepEqual(Object.keys(fake1.kdf).sort(), Object.keys(real.kdf).sort());
      assert.equal(fake1.salt.length, real.salt.length);
      assert.deepEqual(fake1.kdf, real.kdf);
      assert.deepEqual(fake1.salt, fake2.salt, "the same unknown name gets the same salt");
      assert.notDeepEqual(fake1.salt, fake3.salt);
      a.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] resume by device key works until logout; requests need a login`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      await rejectsCode(a.conn.request("lookup", { username: "x" }), "not_allowed");
      await signUp(a, "gina");
      const key = a.deviceKey;
      a.conn.close();
      const again = await rawClient(t.port, key);
      assert.equal((await again.conn.request("resume", {})).username, "gina");
      await again.conn.request("logout", {});
      await rejectsCode(again.conn.request("lookup", { username: "gina" }), "not_allowed");
      again.conn.close();
      const third = await rawClient(t.port, key);
      await rejectsCode(third.conn.request("resume", {}), "unknown_device");
      const stranger = await rawClient(t.port);
      await rejectsCode(stranger.conn.request("resume", {}), "unknown_device");
      third.conn.close();
      stranger.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] a login elsewhere disconnects the older connection with a reason`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const authKey = await signUp(a, "hank");
      const b = await rawClient(t.port);
      await b.conn.request("login", { username: "hank", authKey });
      const reason = await a.conn.closed;
      assert.equal(reason.code, "logged_in_elsewhere");
      b.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] change_password and delete_account need the current password`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const oldKey = await signUp(a, "ivan");
      const newKey = randomBytes(32);
      const kdf = { ...DEFAULT_KDF_PARAMS };
      // A new password stretched below the floor is refused, even with the right current one.
      await rejectsCode(
        a.conn.request("change_password", {
          authKey: oldKey,
          newAuthKey: newKey,
          salt: randomBytes(16),
          kdf: { ...LEGACY_KDF_PARAMS },
        }),
        "bad_message",
      );
      await rejectsCode(
        a.conn.request("change_password", {
          authKey: randomBytes(32),
          newAuthKey: newKey,
          salt: randomBytes(16),
          kdf,
        }),
        "bad_credentials",
      );
      const salt = randomBytes(16);
      await a.conn.request("change_password", { authKey: oldKey, newAuthKey: newKey, salt, kdf });
      assert.deepEqual((await a.conn.request("prelogin", { username: "ivan" })).salt, salt);
      const b = await rawClient(t.port);
      await rejectsCode(
        b.conn.request("login", { username: "ivan", authKey: oldKey }),
        "bad_credentials",
      );
      await b.conn.request("login", { username: "ivan", authKey: newKey });
      await b.conn.request("delete_account", { authKey: newKey });
      const c = await rawClient(t.port);
      await rejectsCode(
        c.conn.request("login", { username: "ivan", authKey: newKey }),
        "bad_credentials",
      );
      await signUp(c, "ivan"); // the name is free again
      b.conn.close();
      c.conn.close();
    } finally {
      await t.stop();
    }
  });
}
