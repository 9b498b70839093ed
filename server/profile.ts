/**
 * Profile fields (full name, email) sealed at rest under the server's data key, bound to the
 * username so a sealed profile cannot be moved to another account's row.
 *
 * @module
 */

import { AesGcmKey, concat, fromUtf8, randomBytes, utf8 } from "../crypto/mod.ts";

const PROFILE_VERSION = 1;

/** What a user tells the server about themselves. */
export interface Profile {
  fullName: string;
  email?: string;
}

function ad(username: string): Uint8Array {
  return utf8(`pesuchat profile v1 ${username}`);
}

/** Seals a profile: version byte ‖ 12-byte random nonce ‖ AES-256-GCM ciphertext. */
export async function sealProfile(
  key: AesGcmKey,
  username: string,
  profile: Profile,
): Promise<Uint8Array> {
  const nonce = randomBytes(12);
  const plain = utf8(
    JSON.stringify(
      profile.email ? { n: profile.fullName, e: profile.email } : { n: profile.fullName },
    ),
  );
  return concat(
    new Uint8Array([PROFILE_VERSION]),
    nonce,
    await key.seal(nonce, plain, ad(username)),
  );
}

/** Opens a sealed profile; throws when it was not sealed for this username under this key. */
export async function openProfile(
  key: AesGcmKey,
  username: string,
  sealed: Uint8Array,
): Promise<Profile> {
  if (sealed[0] !== PROFILE_VERSION) throw new Error(`unknown profile version ${sealed[0]}`);
  const plain = await key.open(sealed.subarray(1, 13), sealed.subarray(13), ad(username));
  const raw = JSON.parse(fromUtf8(plain));
  return raw.e ? { fullName: raw.n, email: raw.e } : { fullName: raw.n };
}
