/**
 * The page and its style sheet, built into the program (no CDN, no web font: the system's own
 * fonts). The script is the bundle in ui_bundle.gen.ts, built from client/web/ui/ by
 * `deno task web:build`.
 *
 * @module
 */

/** The one HTML page: an empty frame that the script fills. No inline script or style. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>pesuchat</title>
<link rel="stylesheet" href="/style.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<main id="app"><p role="status">loading pesuchat…</p></main>
</body>
</html>
`;

/** The style sheet: one column, readable from a phone to a desktop window. */
export const STYLE_CSS = `
:root { color-scheme: light dark; --accent: #2a62c9; --warn: #b3261e; --muted: #666; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 0.75rem; min-height: 100vh;
  display: flex; flex-direction: column; gap: 0.75rem; }
h1 { font-size: 1.25rem; margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 0.5rem 0 0.25rem; }
p, pre { margin: 0; }
p, li, label, h2 { overflow-wrap: anywhere; }
pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
header h1 { flex: 1 1 12rem; }
.status { font-size: 0.85rem; color: var(--muted); }
.status.offline, .status.reconnecting { color: var(--warn); }
.notice { padding: 0.5rem 0.75rem; border-radius: 0.4rem; background: #e8f0fe; color: #111;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.notice.error, .banner { background: #fde7e5; color: #410e0b; }
.notice:empty { display: none; }
.banner { padding: 0.75rem; border-radius: 0.4rem; display: flex; flex-direction: column;
  gap: 0.5rem; }
form { display: flex; flex-direction: column; gap: 0.4rem; }
label { display: flex; flex-direction: column; gap: 0.15rem; font-weight: 600; }
label .hint, p.hint { font-weight: 400; font-size: 0.85rem; color: var(--muted); }
label.check input { width: auto; margin-right: 0.5rem; }
label.check { flex-direction: row; align-items: center; font-weight: 400; }
input, textarea, button { font: inherit; }
input, textarea { padding: 0.45rem 0.5rem; border: 1px solid #888; border-radius: 0.3rem;
  width: 100%; }
button { padding: 0.45rem 0.9rem; border: 1px solid var(--accent); border-radius: 0.3rem;
  background: var(--accent); color: #fff; cursor: pointer; }
button.plain { background: transparent; color: inherit; border-color: #888; }
button.danger { background: var(--warn); border-color: var(--warn); }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.row { display: flex; flex-wrap: wrap; gap: 0.5rem; }
.chats { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column;
  gap: 0.35rem; }
.chats button { width: 100%; text-align: left; background: transparent; color: inherit;
  border-color: #aaa; display: grid; grid-template-columns: 1fr auto; gap: 0.1rem 0.5rem; }
.chats .name { font-weight: 600; overflow-wrap: anywhere; }
.chats .time { color: var(--muted); font-size: 0.85rem; }
.chats .preview { grid-column: 1 / 2; color: var(--muted); overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
.chats .unread { background: var(--accent); color: #fff; border-radius: 1rem;
  padding: 0 0.5rem; font-size: 0.85rem; justify-self: end; }
.messages { list-style: none; margin: 0; padding: 0; flex: 1; display: flex;
  flex-direction: column; gap: 0.35rem; overflow-y: auto; min-height: 8rem; }
.msg { max-width: 85%; padding: 0.35rem 0.6rem; border-radius: 0.6rem; background: #eee;
  color: #111; align-self: flex-start; }
.msg.out { background: #dbe7fd; align-self: flex-end; }
.msg .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .text, .chats .name, .chats .preview, h1, .notice { unicode-bidi: plaintext; }
.msg .meta { font-size: 0.75rem; color: #555; text-align: right; }
.msg .tools { gap: 0.25rem; margin-top: 0.25rem; }
.msg .tools button { padding: 0.1rem 0.45rem; font-size: 0.8rem; }
.msg .text.deleted { font-style: italic; color: #555; }
.quote { margin: 0 0 0.2rem; padding-left: 0.5rem; border-left: 3px solid #999; color: #444;
  font-size: 0.85rem; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
.reactions { list-style: none; margin: 0.2rem 0 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: 0.25rem; font-size: 0.85rem; }
.reactions li { border: 1px solid #aaa; border-radius: 1rem; padding: 0 0.45rem;
  overflow-wrap: anywhere; unicode-bidi: plaintext; }
.reactions li.mine { border-color: var(--accent); }
button.link { background: transparent; border: none; color: inherit; padding: 0 0.2rem;
  text-decoration: underline; font-size: inherit; }
.panel { border: 1px solid #888; border-radius: 0.4rem; padding: 0.5rem; display: flex;
  flex-direction: column; gap: 0.4rem; }
.picker .emoji { font-size: 1.25rem; padding: 0.1rem 0.4rem; }
.picker .emoji[aria-pressed=true] { background: var(--accent); border-color: var(--accent); }
.picker form { flex-direction: row; align-items: flex-end; }
.picker form label { flex: 1 1 8rem; }
.panel > button { align-self: flex-start; }
.history ol { margin: 0; padding-left: 1.4rem; display: flex; flex-direction: column;
  gap: 0.3rem; }
.history .text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
ul.pinned { margin: 0; padding-left: 0; list-style: none; }
ul.pinned li { overflow-wrap: anywhere; unicode-bidi: plaintext; }
.composer { flex-direction: row; align-items: flex-end; }
.composer label { flex: 1; }
.composer textarea { min-height: 2.6rem; max-height: 10rem; resize: vertical; }
.number { font-size: 1.1rem; letter-spacing: 0.05em; }
.qr { width: min(16rem, 80vw); height: auto; background: #fff; padding: 0.5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
`;
