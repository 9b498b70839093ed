/**
 * A small schema language for validating decoded messages. Every inbound message passes through
 * a schema before any code reads it; a failure names the path, what was expected and what came.
 * Byte fields travel as base64 strings and come out as `Uint8Array`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/** Validates an unknown value into `T`, or throws `ProtocolError("bad_message")`. */
export interface Schema<T> {
  parse(value: unknown, path: string): T;
}

/** The type a schema produces. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(path: string, expected: string, value: unknown): never {
  throw new ProtocolError("bad_message", `${path}: expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (typeof value === "number") {
    return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  }
  return typeof value;
}

/** A string of `min`..`max` characters (UTF-16 code units). */
export function str(min: number, max: number): Schema<string> {
  return {
    parse(v, path) {
      if (typeof v !== "string" || v.length < min || v.length > max) {
        fail(path, `a string of ${min}-${max} characters`, v);
      }
      return v;
    },
  };
}

/** An integer in [min, max]. */
export function int(min: number, max: number): Schema<number> {
  return {
    parse(v, path) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        fail(path, `an integer in [${min}, ${max}]`, v);
      }
      return v;
    },
  };
}

/** A boolean. */
export const bool: Schema<boolean> = {
  parse(v, path) {
    if (typeof v !== "boolean") fail(path, "a boolean", v);
    return v;
  },
};

/** Base64 bytes whose decoded length is in [min, max]. */
export function bytes(min: number, max: number = min): Schema<Uint8Array> {
  const maxChars = Math.ceil(max / 3) * 4;
  return {
    parse(v, path) {
      if (typeof v !== "string" || v.length > maxChars) {
        fail(path, `base64 of ${min}-${max} bytes`, v);
      }
      let out: Uint8Array;
      try {
        out = Uint8Array.fromBase64(v);
      } catch {
        return fail(path, "base64", v);
      }
      if (out.length < min || out.length > max) {
        throw new ProtocolError(
          "bad_message",
          `${path}: expected ${min}-${max} bytes, got ${out.length}`,
        );
      }
      return out;
    },
  };
}

/** One of the given string literals. */
export function literal<const L extends string>(...values: L[]): Schema<L> {
  return {
    parse(v, path) {
      if (typeof v !== "string" || !(values as string[]).includes(v)) {
        fail(path, values.join(" or "), v);
      }
      return v as L;
    },
  };
}

/** An array of at most `max` items. */
export function array<T>(item: Schema<T>, max: number): Schema<T[]> {
  return {
    parse(v, path) {
      if (!Array.isArray(v) || v.length > max) fail(path, `an array of at most ${max}`, v);
      return v.map((x, i) => item.parse(x, `${path}[${i}]`));
    },
  };
}

/** The value or `undefined` when the field is absent or null. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } {
  return {
    optional: true,
    parse(v, path) {
      return v === undefined || v === null ? undefined : inner.parse(v, path);
    },
  };
}

/** The value or null. */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    parse(v, path) {
      return v === null || v === undefined ? null : inner.parse(v, path);
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { optional: true } ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
/** The object type an {@linkcode object} schema produces. */
export type ObjectOf<S extends Shape> =
  & { [K in RequiredKeys<S>]: Infer<S[K]> }
  & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** An object with exactly these fields (unknown fields are ignored, so newer peers can add some). */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return {
    parse(v, path) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "an object", v);
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const parsed = shape[k]!.parse(src[k], `${path}.${k}`);
        if (parsed !== undefined) out[k] = parsed;
      }
      return out as ObjectOf<S>;
    },
  };
}

/**
 * Turns a value into something `JSON.stringify` can carry: `Uint8Array` becomes base64, and
 * everything else is kept. The inverse is the message's schema.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.toBase64();
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}
