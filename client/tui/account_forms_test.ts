import assert from "node:assert/strict";
import { emailProblem } from "./account_forms.ts";
import { safetyNumberRows } from "./chat_screen.ts";

Deno.test("emailProblem() accepts an empty answer or a name@host.tld shape, and says why not", () => {
  assert.equal(emailProblem(""), undefined);
  assert.equal(emailProblem("bob@example.org"), undefined);
  for (const bad of ["bob", "bob@example", "@example.org", "bo b@example.org"]) {
    assert.match(emailProblem(bad) ?? "", /does not look like an email address/, bad);
  }
});

Deno.test("safetyNumberRows() shows twelve groups as three rows of four", () => {
  const groups = Array.from({ length: 12 }, (_, i) => String(i).padStart(5, "0"));
  assert.deepEqual(safetyNumberRows(groups.join(" ")), [
    "00000  00001  00002  00003",
    "00004  00005  00006  00007",
    "00008  00009  00010  00011",
  ]);
});
