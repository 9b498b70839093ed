/**
 * Statement shapes for variable-length batches. A multi-row INSERT or an `IN (…)` list is a
 * different prepared statement for every length, and both drivers cache prepared statements per
 * connection: with one shape per length a busy server would prepare up to a thousand statements
 * per connection. Cutting batches into a few fixed sizes keeps the cache, and the server's
 * `max_prepared_stmt_count`, small while still sending many rows per round trip.
 *
 * @module
 */

/** Most rows in one multi-row INSERT statement. A power of two, see {@linkcode insertChunks}. */
export const MAX_INSERT_ROWS = 64;

/**
 * Splits `n` rows into INSERT chunks: full chunks of MAX_INSERT_ROWS, then the binary digits of
 * the rest (100 → 64, 32, 4), so at most 7 distinct statement shapes exist per table.
 */
export function insertChunks(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  while (rest >= MAX_INSERT_ROWS) {
    out.push(MAX_INSERT_ROWS);
    rest -= MAX_INSERT_ROWS;
  }
  for (let size = MAX_INSERT_ROWS >> 1; size >= 1; size >>= 1) {
    if (rest >= size) {
      out.push(size);
      rest -= size;
    }
  }
  return out;
}

/**
 * The power of two at least `n` (and at least 1): an `IN (…)` list of `n` values is padded to
 * this length by repeating its last value, which changes nothing a membership test selects.
 */
export function paddedLength(n: number): number {
  let size = 1;
  while (size < n) size <<= 1;
  return size;
}

/** Pads `values` (not empty) to {@linkcode paddedLength} by repeating the last value. */
export function padList<T>(values: readonly T[]): T[] {
  if (values.length === 0) throw new RangeError("padList: expected at least one value, got 0");
  const out = values.slice();
  const last = values[values.length - 1]!;
  const size = paddedLength(values.length);
  while (out.length < size) out.push(last);
  return out;
}

/** `?,?,?` with `n` placeholders. */
export function listPlaceholders(n: number): string {
  return new Array(n).fill("?").join(",");
}

/** `(?,?),(?,?)` with `rows` groups of `columns` placeholders. */
export function rowPlaceholders(rows: number, columns: number): string {
  const row = `(${listPlaceholders(columns)})`;
  return new Array(rows).fill(row).join(",");
}
