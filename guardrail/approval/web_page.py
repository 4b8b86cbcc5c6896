"""The one HTML page of the approval server: no external assets, data via textContent only."""

from __future__ import annotations

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>guardrail approvals</title>
<style nonce="{nonce}">
body {{ font: 15px system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.3rem; }}
.card {{ border: 1px solid #ccc; border-left: 6px solid #e0a800; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }}
.card.high, .card.critical {{ border-left-color: #c62828; }}
.card.low {{ border-left-color: #2e7d32; }}
.target {{ font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; background: #f5f5f5; padding: .4rem; }}
.meta {{ color: #555; font-size: .9rem; }}
ul {{ margin: .3rem 0; }}
pre.diff {{ background: #fafafa; padding: .4rem; overflow-x: auto; }}
.add {{ color: #2e7d32; }} .del {{ color: #c62828; }} .hunk {{ color: #00838f; }}
button {{ margin: .4rem .4rem 0 0; padding: .35rem .8rem; }}
input.message {{ width: 60%; padding: .3rem; }}
#empty {{ color: #777; }}
#status {{ float: right; color: #777; font-size: .85rem; }}
</style></head>
<body>
<h1>guardrail: calls waiting for approval <span id="status">connecting…</span></h1>
<p id="empty">Nothing is waiting.</p>
<div id="list"></div>
<script nonce="{nonce}">
"use strict";
const list = document.getElementById("list");
const empty = document.getElementById("empty");
const status = document.getElementById("status");
let version = -1;

function el(tag, cls, text) {{
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}}

async function answer(item, what, message) {{
  const r = await fetch("api/requests/" + encodeURIComponent(item.id) + "/answer", {{
    method: "POST",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{answer: what, message: message, call_hash: item.call_hash}}),
  }});
  if (!r.ok) status.textContent = "answer refused (" + r.status + ")";
}}

function card(item) {{
  const c = el("div", "card " + item.risk);
  c.id = "req-" + item.id;
  c.dataset.id = item.id;
  c.appendChild(el("div", "meta", item.tool + " · risk " + item.risk + " · " + item.reason));
  c.appendChild(el("div", "target", item.target));
  const effects = el("ul");
  for (const e of item.effects) effects.appendChild(el("li", "", e));
  c.appendChild(el("div", "meta", "effects")); c.appendChild(effects);
  const rules = el("ul");
  for (const r of item.rules) rules.appendChild(el("li", "", r.risk.toUpperCase() + " " + r.id + " (" + r.decision + ")" + (r.description ? ": " + r.description : "")));
  c.appendChild(el("div", "meta", "rules")); c.appendChild(rules);
  if (item.diff) {{
    const pre = el("pre", "diff");
    for (const line of item.diff) {{
      const cls = line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
      pre.appendChild(el("span", cls, line + "\\n"));
    }}
    c.appendChild(pre);
  }}
  if (item.always_rule) {{
    c.appendChild(el("div", "meta", "\\u201calways allow\\u201d adds to .guardrail/policy.yaml:"));
    c.appendChild(el("pre", "diff", item.always_rule));
  }}
  const msg = el("input", "message"); msg.placeholder = "message for the agent (with deny)"; msg.name = "message";
  const buttons = [["allow_once", "Allow once"], ["allow_session", "Allow for session"]];
  if (item.always_rule) buttons.push(["allow_always", "Always allow"]);
  buttons.push(["deny", "Deny"]);
  const row = el("div");
  for (const [what, label] of buttons) {{
    const b = el("button", what, label);
    b.name = what;
    b.addEventListener("click", () => {{ c.querySelectorAll("button").forEach(x => x.disabled = true); answer(item, what, what === "deny" ? msg.value : ""); }});
    row.appendChild(b);
  }}
  row.appendChild(msg);
  c.appendChild(row);
  return c;
}}

function render(items) {{
  const seen = new Set(items.map(i => i.id));
  for (const c of Array.from(list.children)) if (!seen.has(c.dataset.id)) c.remove();
  for (const item of items) if (!document.getElementById("req-" + item.id)) list.appendChild(card(item));
  empty.style.display = items.length ? "none" : "";
}}

async function poll() {{
  for (;;) {{
    try {{
      const r = await fetch("api/pending?wait=20&since=" + version, {{cache: "no-store"}});
      if (!r.ok) throw new Error("HTTP " + r.status);
      const data = await r.json();
      version = data.version;
      render(data.pending);
      status.textContent = "live";
    }} catch (err) {{
      status.textContent = "reconnecting…";
      await new Promise(ok => setTimeout(ok, 2000));
    }}
  }}
}}
poll();
</script>
</body></html>
"""


def render_page(nonce: str) -> str:
    return _PAGE.format(nonce=nonce)
