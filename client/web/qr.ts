/**
 * The safety number as a QR code: the 60 digits in numeric mode, error correction level M, as
 * rows of "1" (dark) and "0" (light) that the page draws. Another pesuchat (or any QR reader)
 * reading it gets exactly the digits shown beside it.
 *
 * @module
 */

import qrcode from "qrcode-generator";

/** The QR modules of `digits` (only 0-9), row by row. */
export function qrRows(digits: string): string[] {
  if (!/^[0-9]+$/.test(digits)) throw new RangeError("a safety-number QR code holds digits only");
  const q = qrcode(0, "M");
  q.addData(digits, "Numeric");
  q.make();
  const n = q.getModuleCount();
  const rows: string[] = [];
  for (let r = 0; r < n; r++) {
    let row = "";
    for (let c = 0; c < n; c++) row += q.isDark(r, c) ? "1" : "0";
    rows.push(row);
  }
  return rows;
}
