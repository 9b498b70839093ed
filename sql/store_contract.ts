/**
 * The Store contract suite: one set of tests, written once, that every Store implementation must
 * pass. A test file calls {@linkcode storeContract} with a harness for its database
 * (`sqlite_test.ts` with a temporary file, `mysql_test.ts` with a fresh MariaDB database).
 *
 * @module
 */

import type { ContractHarness } from "./_contract_fixtures.ts";
import { userContract } from "./_contract_users.ts";
import { prekeyContract } from "./_contract_prekeys.ts";
import { queueContract } from "./_contract_queue.ts";
import { loginContract } from "./_contract_logins.ts";

export type { ContractHarness, EmptyDatabase } from "./_contract_fixtures.ts";

/** Registers every contract test (with `Deno.test`) against the harness's database. */
export function storeContract(h: ContractHarness): void {
  userContract(h);
  prekeyContract(h);
  queueContract(h);
  loginContract(h);
}
