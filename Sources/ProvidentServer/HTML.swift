import ProvidentDomain

/// HTML built from escaped text: every string that comes from data goes through `escape`.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A table of a report, numbers right-aligned, their headers too.
    static func table(_ table: ReportTable, limit: Int? = nil) -> String {
        let numeric = table.labels.indices.map { column in
            table.rows.first.map { row -> Bool in if case .text = row[column] { false } else { true } } ?? false
        }
        let rows = limit.map { Array(table.rows.prefix($0)) } ?? table.rows
        return render(headers: zip(table.labels, numeric).map { ["label": $0, "numeric": $1] }, rows: rows.map { row in
            zip(row, table.labels).map { value, label -> [String: Any] in
                switch value {
                case .text: cell(label, escape(value.display), kind: value.display.count <= 16 ? "nw" : nil)
                default: cell(label, escape(value.display), kind: "n")
                }
            }
        })
    }

    /// A plain table from header cells and rows of already-escaped HTML cells.
    static func table(headers: [String], rows: [[String]]) -> String {
        render(headers: headers.map { ["label": $0] }, rows: rows.map { row in
            zip(row, headers).map { html, label in cell(label, html, kind: short(html) ? "nw" : nil) }
        })
    }

    private static func cell(_ label: String, _ html: String, kind: String?) -> [String: Any] {
        var cell: [String: Any] = ["label": label, "html": html]
        if let kind { cell["kind"] = kind }
        return cell
    }

    private static func render(headers: [[String: Any]], rows: [[[String: Any]]]) -> String {
        OfficeTemplates.render("table", ["headers": headers, "rows": rows.map { ["cells": $0] }, "columns": headers.count])
    }

    /// Whether a cell's HTML is short plain text (a date, an amount, a status) that should not
    /// wrap; long text and forms wrap so a table fits its panel.
    static func short(_ html: String) -> Bool {
        !html.contains("<form") && html.replacing(/<[^>]*>/, with: "").count <= 16
    }

    /// A POST form protected by the session's CSRF token; `fields` is HTML (escaped).
    static func form(action: String, csrf: String, fields: String, button: String, confirm: Bool = false) -> String {
        OfficeTemplates.render("form", ["action": action, "csrf": csrf, "fields": fields, "button": button, "danger": confirm])
    }

    /// Label and value pairs; the values are HTML (escaped).
    static func facts(_ facts: [(label: String, html: String)]) -> String {
        OfficeTemplates.render("facts", ["facts": facts.map { ["label": $0.label, "html": $0.html] }])
    }

    static let style = """
        *{box-sizing:border-box}body{margin:0;font:14px/1.5 "Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;color:#1f2933;background:#f4f6f8}
        header{background:#1d4e89;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:24px;flex-wrap:wrap}
        header h1{font-size:18px;margin:0;font-weight:600}header nav a{color:#dbe7f5;text-decoration:none;margin-right:14px}
        header nav a.on{color:#fff;font-weight:600;border-bottom:2px solid #f7c948}header .who{margin-left:auto;font-size:13px}
        header .who form{display:inline}header button{background:none;border:1px solid #9fb3c8;color:#fff;border-radius:3px;padding:2px 8px;cursor:pointer}
        main{padding:20px 24px;max-width:1280px}h2{font-size:20px;margin:4px 0 12px}h3{font-size:15px;margin:18px 0 8px}
        .asof{color:#52606d;font-size:13px;margin-bottom:12px}
        .cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}.card{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:12px 16px;min-width:150px}
        a.card{color:inherit;text-decoration:none}a.card:hover{border-color:#1d4e89}
        .card .v{font-size:24px;font-weight:600;color:#1d4e89}.card .l{color:#52606d;font-size:12px}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
        .panel{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:12px 16px;margin-bottom:16px;overflow-x:auto}.panel h3{margin-top:2px}
        table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap}
        td{white-space:normal}td.n,td.nw{white-space:nowrap}td:has(form){min-width:16em}td form.inline{display:flex;flex-wrap:wrap;margin:2px 0}
        th{background:#f0f4f8;color:#334e68;font-weight:600}th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}td.empty{color:#9aa5b1;text-align:center}
        .downloads a{margin-right:12px;font-size:13px}form.inline{display:inline-flex;gap:4px;align-items:center;margin:0}
        input[type=text],input[type=password],input[type=date]{border:1px solid #bcccdc;border-radius:3px;padding:3px 6px;font:inherit}
        button{border:1px solid #1d4e89;background:#1d4e89;color:#fff;border-radius:3px;padding:3px 10px;font:inherit;cursor:pointer}
        button.danger{background:#ab091e;border-color:#ab091e}.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;background:#e4e7eb}
        .tag.bad{background:#ffe3e3;color:#ab091e}.tag.ok{background:#e3f9e5;color:#0e7c3a}.tag.warn{background:#fff3c4;color:#8d2b0b}
        .notice{background:#e3f9e5;border:1px solid #91d8a5;padding:8px 12px;border-radius:4px;margin-bottom:12px}
        .error{background:#ffe3e3;border:1px solid #f29b9b;padding:8px 12px;border-radius:4px;margin-bottom:12px}
        .login{max-width:360px;margin:80px auto;background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:24px}
        .login label{display:block;margin:10px 0 4px}.login input{width:100%}.login button{margin-top:14px;width:100%;padding:6px}
        svg text{font-family:inherit}svg{max-width:100%;height:auto}td{overflow-wrap:anywhere}
        nav{display:flex;flex-wrap:wrap;gap:2px 0}nav a{white-space:nowrap}nav.pages{gap:8px 16px;margin-top:10px;align-items:center}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.facts dt{color:#52606d}dl.facts dd{margin:0}
        form.filters{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:10px}form.filters input[type=text]{flex:1 1 14em;min-width:0}select{font:inherit;padding:2px 4px}
        @media (max-width:700px){
        header{padding:8px 12px;gap:8px}header .who{margin-left:0}main{padding:12px}
        .grid{grid-template-columns:1fr}.card{min-width:0;flex:1 1 140px}.panel{padding:10px;overflow-x:visible}
        table,thead,tbody,tr,th,td{display:block;width:100%}thead{display:none}
        tr{border:1px solid #d9e2ec;border-radius:6px;margin-bottom:8px;padding:4px 8px;background:#fff}
        td{border:none;padding:3px 0;white-space:normal;text-align:left!important;display:flex;gap:8px;flex-wrap:wrap}
        td[data-label]::before{content:attr(data-label);color:#52606d;font-size:12px;min-width:8em;flex-shrink:0}
        td.empty{display:block;text-align:center!important}form.inline{display:flex;flex-wrap:wrap;width:100%}
        form.inline input[type=text]{flex:1 1 8em;min-width:0}button{white-space:normal;text-align:left}
        }
        """
}
