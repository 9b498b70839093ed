/**
 * Prepares the MariaDB/MySQL database the tests use: a TCP user `pesuchat_test` with its own
 * database, created over the local socket as root (the machine's default MariaDB set-up). Safe to
 * run repeatedly. Set PESUCHAT_TEST_MYSQL to a URL to use another server instead; then nothing is
 * created here.
 *
 * @module
 */

/** The URL tests use when PESUCHAT_TEST_MYSQL is not set. */
export const DEFAULT_TEST_MYSQL_URL =
  "mysql://pesuchat_test:pesuchat_test@127.0.0.1:3306/pesuchat_test";

const SQL = `
CREATE DATABASE IF NOT EXISTS pesuchat_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'pesuchat_test'@'127.0.0.1' IDENTIFIED BY 'pesuchat_test';
CREATE USER IF NOT EXISTS 'pesuchat_test'@'localhost' IDENTIFIED BY 'pesuchat_test';
GRANT ALL PRIVILEGES ON \`pesuchat\\_test%\`.* TO 'pesuchat_test'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`pesuchat\\_test%\`.* TO 'pesuchat_test'@'localhost';
FLUSH PRIVILEGES;
`;

if (import.meta.main) {
  if (Deno.env.get("PESUCHAT_TEST_MYSQL")) Deno.exit(0);
  const cmd = new Deno.Command("mariadb", {
    args: ["-uroot"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  let child;
  try {
    child = cmd.spawn();
  } catch (e) {
    console.error(`test_db: cannot run the mariadb client (${(e as Error).message})`);
    console.error(
      "test_db: install MariaDB, or set PESUCHAT_TEST_MYSQL=mysql://user:pass@host:port/db",
    );
    Deno.exit(1);
  }
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(SQL));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    console.error(
      `test_db: creating the test user failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
    console.error(
      "test_db: is MariaDB running? start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    );
    Deno.exit(1);
  }
}
