import assert from "node:assert/strict";
import { qrRows } from "./qr.ts";

Deno.test("qrRows() draws 60 digits as a square version 2 code with its finder patterns", () => {
  const rows = qrRows("0123456789".repeat(6));
  // 60 digits in numeric mode at level M fit version 2 (up to 63): 25 modules a side.
  assert.equal(rows.length, 25);
  for (const r of rows) assert.match(r, /^[01]{25}$/);
  // The finder pattern in the top-left corner: a dark 7×7 ring around a dark 3×3 core.
  assert.equal(rows[0]!.slice(0, 7), "1111111");
  assert.equal(rows[1]!.slice(0, 7), "1000001");
  assert.equal(rows[3]!.slice(0, 7), "1011101");
  assert.equal(rows[6]!.slice(0, 7), "1111111");
  assert.notDeepEqual(qrRows("1".repeat(60)), rows);
});

Deno.test("qrRows() refuses anything but digits", () => {
  assert.throws(() => qrRows("12345 67890"), RangeError);
  assert.throws(() => qrRows("<script>"), RangeError);
});
