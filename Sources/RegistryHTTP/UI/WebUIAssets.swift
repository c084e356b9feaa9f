// The web page's static files, served same-origin under `/ui/static/` so the
// Content-Security-Policy can forbid inline script and style. The page reads
// fine without the script: it only filters long tables as one types and adds
// copy buttons to pull commands.
//
// Thread safety: constants.

enum WebUIAssets {
    static let stylesheet = """
        :root{--fg:#1d232a;--muted:#5b6670;--line:#d9dee3;--bg:#fff;--head:#f3f5f7;--accent:#0b5cad;--warn:#fff4d6;--bad:#a4161a}
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0}
        header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--head)}
        header .brand{font-weight:700;color:var(--fg);text-decoration:none}
        header .who{margin-left:auto;color:var(--muted)}
        header form{display:inline;margin:0}
        main{padding:1em 1.2em;max-width:1200px}
        h1{font-size:1.4em;margin:.2em 0 .6em}
        h2{font-size:1.1em;margin:1.4em 0 .5em}
        a{color:var(--accent)}
        table{border-collapse:collapse;width:100%;margin:.4em 0}
        th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--head);font-weight:600}
        td.num,th.num{text-align:right;white-space:nowrap}
        code,pre{font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
        pre{background:var(--head);padding:.8em;overflow:auto;max-height:30em;white-space:pre-wrap;word-break:break-all}
        .banner{background:var(--warn);border:1px solid #e8c66b;padding:.5em .8em;margin-bottom:1em}
        .error{color:var(--bad);font-weight:600}
        .muted{color:var(--muted)}
        .totals{display:flex;gap:2em;flex-wrap:wrap;margin:.4em 0 1em}
        .totals div{min-width:9em}
        .totals b{display:block;font-size:1.2em}
        form.inline{display:inline;margin:0}
        button,input[type=submit]{font:inherit;padding:.15em .7em;cursor:pointer}
        button.danger{color:var(--bad)}
        input[type=text],input[type=password],input[type=search]{font:inherit;padding:.2em .4em}
        .pull{white-space:nowrap}
        .crumbs{color:var(--muted);margin-bottom:.3em}
        dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}
        dl.kv dt{color:var(--muted)}
        dl.kv dd{margin:0;word-break:break-all}
        """

    static let script = """
        "use strict";
        document.querySelectorAll("input[data-filter]").forEach(function (input) {
          var table = document.getElementById(input.getAttribute("data-filter"));
          if (!table) return;
          input.addEventListener("input", function () {
            var q = input.value.toLowerCase();
            table.querySelectorAll("tbody tr").forEach(function (row) {
              row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
            });
          });
        });
        document.querySelectorAll("code[data-copy]").forEach(function (code) {
          if (!navigator.clipboard) return;
          var b = document.createElement("button");
          b.type = "button";
          b.textContent = "copy";
          b.addEventListener("click", function () {
            navigator.clipboard.writeText(code.getAttribute("data-copy")).then(function () { b.textContent = "copied"; });
          });
          code.after(" ", b);
        });
        """
}
