import ProvidentDomain

/// The dashboard's HTML, from the templates in `OfficeTemplates`: text goes in as text and the
/// templates escape it. `escape` remains for the SVG of the charts.
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
                case .text: cell(label, [.text(value.display)], kind: value.display.count <= 16 ? "nw" : nil)
                default: cell(label, [.text(value.display)], kind: "n")
                }
            }
        })
    }

    /// A table from header labels and rows of cells, each cell a list of parts.
    static func table(headers: [String], rows: [[Cell]]) -> String {
        render(headers: headers.map { ["label": $0] }, rows: rows.map { row in
            zip(row, headers).map { parts, label in cell(label, parts, kind: short(parts) ? "nw" : nil) }
        })
    }

    private static func cell(_ label: String, _ parts: Cell, kind: String?) -> [String: Any] {
        var cell: [String: Any] = ["label": label, "parts": parts.map(\.context)]
        if let kind { cell["kind"] = kind }
        return cell
    }

    private static func render(headers: [[String: Any]], rows: [[[String: Any]]]) -> String {
        OfficeTemplates.render("table", ["headers": headers, "rows": rows.map { ["cells": $0] }, "columns": headers.count])
    }

    /// Whether a cell is short plain text (a date, an amount, a status) that should not wrap;
    /// long text and forms wrap so a table fits its panel.
    static func short(_ parts: Cell) -> Bool {
        parts.allSatisfy { if case .form = $0 { false } else { true } } && parts.map(\.text).joined().count <= 16
    }

    /// Label and value pairs.
    static func facts(_ facts: [(label: String, value: Cell)]) -> String {
        OfficeTemplates.render("facts", ["facts": facts.map { ["label": $0.label, "parts": $0.value.map(\.context)] }])
    }

    /// A list of items, one line each.
    static func items(_ items: [String]) -> String {
        items.isEmpty ? "" : OfficeTemplates.render("items", ["items": items])
    }

    /// A GET form that filters a list: text and date inputs, and choices.
    static func filters(action: String, fields: [FilterField], button: String) -> String {
        OfficeTemplates.render("filters", ["action": action, "fields": fields.map(\.context), "button": button])
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
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.facts dt{color:#52606d}dl.facts dd{margin:0}dl.facts+table{margin-top:10px}
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

/// One table cell, or a fact's value: a list of parts.
typealias Cell = [Part]

/// A part of a cell, rendered by the `parts` template: text and numbers are escaped there; a
/// form comes rendered by its own template.
enum Part {
    case text(String)
    /// Right-aligned, in tabular figures.
    case number(String)
    case link(String, href: String)
    /// A small label: `kind` is ok, bad, warn or empty.
    case tag(String, kind: String)
    case lineBreak
    case form(Form)

    var context: [String: Any] {
        switch self {
        case let .text(text): ["text": text]
        case let .number(text): ["number": text]
        case let .link(text, href): ["link": ["label": text, "href": href]]
        case let .tag(text, kind): ["tag": ["label": text, "kind": kind]]
        case .lineBreak: ["br": true]
        case let .form(form): ["form": form.rendered]
        }
    }

    /// The text a reader sees.
    var text: String {
        switch self {
        case let .text(text), let .number(text), let .link(text, _), let .tag(text, _): text
        case .lineBreak, .form: ""
        }
    }
}

/// A POST form carrying the session's CSRF token, rendered by the `form` template.
struct Form {
    struct Input {
        var type = "text"
        let name: String
        var placeholder: String?
        var size: Int?
        var accept: String?
        var autocomplete: String?

        var context: [String: Any] {
            var fields: [String: Any] = ["type": type, "name": name]
            if let placeholder { fields["placeholder"] = placeholder }
            if let size { fields["size"] = String(size) }
            if let accept { fields["accept"] = accept }
            if let autocomplete { fields["autocomplete"] = autocomplete }
            return fields
        }
    }

    let action: String
    let csrf: String
    var hidden: [(name: String, value: String)] = []
    var inputs: [Input] = []
    let button: String
    /// A button that changes something that cannot simply be undone, in red.
    var danger = false
    /// A form on a line of its own (an upload, a confirmation) rather than inside a table cell.
    var block = false
    var multipart = false
    var cancel: (label: String, href: String)?

    var rendered: String {
        var fields: [String: Any] = [
            "action": action, "csrf": csrf, "hidden": hidden.map { ["name": $0.name, "value": $0.value] }, "inputs": inputs.map(\.context),
            "button": button, "danger": danger, "class": block ? "filters" : "inline", "multipart": multipart,
        ]
        if let cancel { fields["cancel"] = ["label": cancel.label, "href": cancel.href] }
        return OfficeTemplates.render("form", fields)
    }
}

/// A field of a filter form.
enum FilterField {
    case text(name: String, value: String, placeholder: String)
    case date(name: String, value: String, label: String)
    case choice(name: String, options: [(value: String, label: String)], selected: String?)

    var context: [String: Any] {
        switch self {
        case let .text(name, value, placeholder): ["text": ["name": name, "value": value, "placeholder": placeholder]]
        case let .date(name, value, label): ["date": ["name": name, "value": value, "label": label]]
        case let .choice(name, options, selected):
            ["select": ["name": name, "options": options.map { ["value": $0.value, "label": $0.label, "selected": $0.value == (selected ?? "")] as [String: Any] }]]
        }
    }
}

/// Most pages' body, from the `body` template: a heading, links, what was done or went wrong,
/// an introduction, and panels whose content comes from other templates.
struct Body {
    struct Panel {
        var title: String?
        var note: String?
        var filters = ""
        var paragraphs: [String] = []
        var content = ""
        var pages = ""
    }

    let heading: String
    var asof: String?
    var links: [(label: String, href: String)] = []
    var notice: String?
    var errors: [String] = []
    var intro: String?
    var panels: [Panel] = []

    init(heading: String, notice: String? = nil, errors: [String] = []) {
        self.heading = heading
        self.notice = notice
        self.errors = errors
    }

    var rendered: String {
        var fields: [String: Any] = [
            "heading": heading, "messages": OfficeDashboard.messages(notice: notice, errors: errors),
            "panels": panels.map { panel -> [String: Any] in
                var fields: [String: Any] = ["filters": panel.filters, "paragraphs": panel.paragraphs, "content": panel.content, "pages": panel.pages]
                if let title = panel.title { fields["title"] = title }
                if let note = panel.note { fields["note"] = note }
                return fields
            },
        ]
        if let asof { fields["asof"] = asof }
        if let intro { fields["intro"] = intro }
        if !links.isEmpty { fields["links"] = ["items": links.map { ["label": $0.label, "href": $0.href] }] }
        return OfficeTemplates.render("body", fields)
    }
}
