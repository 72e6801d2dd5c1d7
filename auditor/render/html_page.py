"""The fixed parts of the HTML report's page: its stylesheet, its one script (named by hash in the
Content-Security-Policy) and HTML escaping."""

from __future__ import annotations

import base64
import hashlib
import html

PAGE = 50  # rows the script shows at a time

SCRIPT = """
(function () {
  var d = document, PAGE = %d;
  d.documentElement.setAttribute("data-js", "ready");
  var bar = d.getElementById("filters");
  if (!bar) return;
  bar.hidden = false;
  var check = d.getElementById("f-check"), text = d.getElementById("f-text");
  var sevs = Array.prototype.slice.call(d.querySelectorAll("input.f-sev"));
  var sections = Array.prototype.slice.call(d.querySelectorAll("section.check"));
  function apply() {
    var want = check.value, q = text.value.toLowerCase(), on = {}, total = 0;
    sevs.forEach(function (s) { on[s.value] = s.checked; });
    sections.forEach(function (sec) {
      var hide = want !== "" && sec.getAttribute("data-check") !== want;
      sec.classList.toggle("off", hide);
      Array.prototype.slice.call(sec.querySelectorAll(".group")).forEach(function (g) {
        var ok = on[g.getAttribute("data-sev")] && (!q || g.textContent.toLowerCase().indexOf(q) >= 0);
        g.classList.toggle("filtered", !ok);
      });
      var table = sec.querySelector("table.findings");
      if (!table) return;
      var limit = +table.getAttribute("data-limit"), rows = table.tBodies[0].rows, match = 0;
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var ok = on[r.getAttribute("data-sev")] && (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
        r.classList.toggle("filtered", !ok);
        if (ok) { match++; }
        r.classList.toggle("paged", ok && match > limit);
      }
      if (!hide) total += match;
      var more = sec.querySelector("button.more");
      more.hidden = match <= limit;
      more.textContent = "Show " + Math.min(PAGE, match - limit) + " more (" + (match - limit) + " hidden)";
      sec.querySelector(".shown").textContent = Math.min(match, limit) + " of " + match + " matching rows shown";
    });
    d.getElementById("f-count").textContent = total + " matching findings in the written rows";
  }
  Array.prototype.slice.call(d.querySelectorAll("button.more")).forEach(function (b) {
    b.addEventListener("click", function () {
      var t = b.parentNode.querySelector("table.findings");
      t.setAttribute("data-limit", +t.getAttribute("data-limit") + PAGE);
      apply();
    });
  });
  check.addEventListener("change", apply);
  text.addEventListener("input", apply);
  sevs.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
})();
""" % PAGE  # noqa: UP031 -- the script is all braces; %d keeps it readable
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'; "
       "img-src data:; base-uri 'none'; form-action 'none'")

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;
--okbg:#dafbe1;--warnbg:#fff8c5;--badbg:#ffebe9;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);
background:#fff}
main{max-width:1200px;margin:0 auto;padding:0 24px 48px}
h1{font-size:28px;margin:0}h2{font-size:20px;margin:32px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:0}
code,.mono{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.banner{padding:20px 24px;border-radius:0 0 10px 10px;margin:0 0 16px;border:1px solid var(--line);border-top:0}
.banner.v-ready{background:var(--okbg);border-color:#aceebb}.banner.v-ready h1{color:var(--ok)}
.banner.v-ready_with_warnings{background:var(--warnbg);border-color:#f5e0a0}.banner.v-ready_with_warnings h1{color:var(--warn)}
.banner.v-not_ready{background:var(--badbg);border-color:#ffcecb}.banner.v-not_ready h1{color:var(--bad)}
.banner .counts{font-size:16px;margin-top:4px}.banner ul{margin:10px 0 0;padding-left:20px}
.banner .meta{color:var(--muted);font-size:12px;margin-top:10px;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--bg)}
.card b{display:block;font-size:22px}.card span{color:var(--muted);font-size:12px}
nav.toc{font-size:13px;color:var(--muted);margin:8px 0}nav.toc a{margin-right:14px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}td.num,th.num{text-align:right;white-space:nowrap}
td.loc{white-space:nowrap}td.wrap,.wrap{overflow-wrap:anywhere;word-break:break-word}
.pill{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.s-pass,.a-yes{background:var(--okbg);color:var(--ok)}.s-warn,.a-unanswered,.a-not-measured{background:var(--warnbg);color:var(--warn)}
.s-fail,.s-error,.a-no{background:var(--badbg);color:var(--bad)}.s-skipped{background:var(--bg);color:var(--muted)}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:var(--warn);font-weight:600}.sev-info{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:16px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:6px}svg{display:block;max-width:100%;height:auto}
section.check{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:14px 0;break-inside:auto}
section.check.off{display:none}
.check-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}.check-head .title{color:var(--muted)}
dl.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(220px,100%),1fr));gap:2px 16px;margin:10px 0}
dl.metrics div{display:flex;justify-content:space-between;gap:8px;border-bottom:1px dotted var(--line);min-width:0}
dl.metrics dt{color:var(--muted);white-space:nowrap}dl.metrics dd{margin:0;font-weight:600;min-width:0;overflow-wrap:anywhere;text-align:right}
details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}
pre{background:var(--bg);padding:8px;border-radius:6px;overflow:auto;max-height:300px;white-space:pre-wrap;
overflow-wrap:anywhere}
.group{border:1px solid var(--line);border-radius:6px;margin:10px 0;break-inside:avoid}
.group-head{background:var(--bg);padding:4px 10px;font-size:12px;color:var(--muted);border-bottom:1px solid var(--line)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(260px,100%),1fr))}
.col{padding:8px 10px;border-right:1px solid var(--line);min-width:0}.col>.mono{overflow-wrap:anywhere}.col:last-child{border-right:0}
.shared{padding:6px 10px;border-bottom:1px solid var(--line)}.shared b{font-size:11px;text-transform:uppercase;color:var(--muted);display:block}
.shared .text{white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.col .field{margin:4px 0}.col .field b{font-size:11px;text-transform:uppercase;color:var(--muted);display:block}
.col .text{white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
ins{background:#aceebb;text-decoration:none;border-radius:2px}del{background:#ffcecb;text-decoration:none;border-radius:2px}
.note{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.filters{position:sticky;top:0;background:#fff;z-index:1;padding:8px 0;border-bottom:1px solid var(--line);
display:flex;gap:14px;align-items:center;flex-wrap:wrap}
.filters input[type=search]{padding:3px 6px;min-width:min(220px,100%)}
@media (max-width:640px){main{padding:0 10px 32px}section.check{padding:10px}td.loc{white-space:normal;overflow-wrap:anywhere}
.banner{padding:14px}}
tr.filtered,tr.paged,.group.filtered{display:none}
.scroll{overflow-x:auto;max-width:100%}
button.more{margin:4px 0;padding:3px 10px;border:1px solid var(--line);background:var(--bg);border-radius:6px;cursor:pointer}
.error-text{color:var(--bad)}
footer{color:var(--muted);font-size:12px;margin-top:32px}
@media print{.filters,button.more,nav.toc{display:none!important}tr.paged{display:table-row}
section.check.off{display:block}body{font-size:11px}main{padding:0}.charts{grid-template-columns:1fr 1fr}
pre{max-height:none}}
"""


def esc(text: object) -> str:
    """Text as HTML, quotes included (safe inside attributes)."""
    return html.escape(str(text), quote=True)

