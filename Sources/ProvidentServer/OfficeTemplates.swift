import Mustache

/// The dashboard's HTML templates (swift-mustache). `{{name}}` escapes what it inserts, so text
/// from data is escaped unless a template says otherwise; `{{{name}}}` is kept for HTML that was
/// itself rendered from a template or escaped, such as a page's body or a table's cells. The
/// templates are compiled into the server, so it serves the dashboard without files beside it.
enum OfficeTemplates {
    static let sources: [String: String] = [
        // Every page: the header with the navigation and the user's controls, then the body.
        "layout": """
            <!DOCTYPE html><html lang="{{lang}}"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>{{title}} · Provident</title>
            <link rel="stylesheet" href="/office/style.css"></head><body>
            <header><h1>{{heading}}</h1>{{#user}}<nav>{{#links}}<a href="{{href}}"{{#on}} class="on"{{/on}}>{{label}}</a>{{/links}}</nav>
            <div class="who">{{name}} <form method="post" action="/office/language" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="lang" value="{{otherLanguage}}"><input type="hidden" name="back" value="{{back}}"><button type="submit">{{otherLanguageLabel}}</button></form> <form method="post" action="/office/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{signOut}}</button></form></div>{{/user}}</header>
            <main>{{{body}}}</main></body></html>
            """,
        "login": """
            <div class="login"><h2>{{heading}}</h2>
            {{#error}}<div class="error">{{error}}</div>{{/error}}
            <form method="post" action="/office/login">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="lang" value="{{lang}}">
            <label for="name">{{nameLabel}}</label><input type="text" id="name" name="name" autocomplete="username" required>
            <label for="password">{{passwordLabel}}</label><input type="password" id="password" name="password" autocomplete="current-password" required>
            <button type="submit">{{signIn}}</button></form>
            <p><a href="/office/login?lang={{otherLanguage}}">{{otherLanguageLabel}}</a></p></div>
            """,
        // A refusal on a page of its own: what was wrong, and the way back.
        "refusal": """
            <div class="login"><div class="error">{{message}}</div><a href="{{back}}">{{backLabel}}</a></div>
            """,
        "messages": """
            {{#notice}}<div class="notice">{{notice}}</div>{{/notice}}{{#errors}}<div class="error">{{.}}</div>{{/errors}}
            """,
        // Most pages: a heading, links back, messages, an introduction, and panels of content.
        "body": """
            <h2>{{heading}}</h2>{{#asof}}<div class="asof">{{asof}}</div>{{/asof}}
            {{#links}}<p class="links">{{#items}}<a href="{{href}}">{{label}}</a> {{/items}}</p>{{/links}}
            {{{messages}}}{{#intro}}<p>{{intro}}</p>{{/intro}}
            {{#panels}}<div class="panel">{{#title}}<h3>{{title}}</h3>{{/title}}{{#note}}<div class="asof">{{note}}</div>{{/note}}{{{filters}}}{{#paragraphs}}<p>{{.}}</p>{{/paragraphs}}{{{content}}}{{{pages}}}</div>{{/panels}}
            """,
        "overview": """
            <h2>{{heading}}</h2><div class="asof">{{asof}}</div>
            <div class="cards">{{#cards}}<a class="card" href="{{href}}"><div class="v">{{value}}</div><div class="l">{{label}}</div></a>{{/cards}}</div>
            <div class="grid">{{#charts}}<div class="panel">{{{.}}}</div>{{/charts}}</div>
            """,
        "report": """
            <h2>{{title}}</h2>
            <form method="get" class="inline asof">{{asOfLabel}} <input type="date" name="as-of" value="{{asOf}}"><button type="submit">{{show}}</button></form>
            <div class="downloads">{{downloadLabel}} {{#downloads}}<a href="{{href}}">{{label}}</a> {{/downloads}}</div>
            {{#chart}}<div class="panel">{{{chart}}}</div>{{/chart}}
            {{#tables}}<div class="panel"><h3>{{title}}</h3>{{{table}}}{{#more}}<p>{{more}}</p>{{/more}}</div>{{/tables}}
            """,
        // What a cell or a fact holds: text, numbers, links, tags, line breaks, forms.
        "parts": """
            {{#parts}}{{#text}}{{.}}{{/text}}{{#number}}<span class="n">{{.}}</span>{{/number}}{{#link}}<a href="{{href}}">{{label}}</a>{{/link}}{{#tag}}<span class="tag {{kind}}">{{label}}</span>{{/tag}}{{#br}}<br>{{/br}}{{#form}}{{{.}}}{{/form}}{{/parts}}
            """,
        // A table; each cell carries its column's name, shown beside it when the table becomes cards on a phone.
        "table": """
            <table><thead><tr>{{#headers}}<th{{#numeric}} class="n"{{/numeric}}>{{label}}</th>{{/headers}}</tr></thead><tbody>
            {{#rows}}<tr>{{#cells}}<td{{#kind}} class="{{kind}}"{{/kind}} data-label="{{label}}">{{>parts}}</td>{{/cells}}</tr>{{/rows}}{{^rows}}<tr><td colspan="{{columns}}" class="empty">—</td></tr>{{/rows}}
            </tbody></table>
            """,
        // A POST form protected by the session's CSRF token.
        "form": """
            <form method="post" action="{{action}}" class="{{class}}"{{#multipart}} enctype="multipart/form-data"{{/multipart}}><input type="hidden" name="csrf" value="{{csrf}}">{{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}{{#inputs}}<input type="{{type}}" name="{{name}}"{{#placeholder}} placeholder="{{placeholder}}"{{/placeholder}}{{#size}} size="{{size}}"{{/size}}{{#accept}} accept="{{accept}}"{{/accept}}{{#autocomplete}} autocomplete="{{autocomplete}}"{{/autocomplete}} required>{{/inputs}}<button type="submit"{{#danger}} class="danger"{{/danger}}>{{button}}</button>{{#cancel}} <a href="{{href}}">{{label}}</a>{{/cancel}}</form>
            """,
        // A GET form that filters a list.
        "filters": """
            <form method="get" action="{{action}}" class="filters">{{#fields}}{{#text}}<input type="text" name="{{name}}" value="{{value}}" placeholder="{{placeholder}}">{{/text}}{{#date}}<input type="date" name="{{name}}" value="{{value}}" aria-label="{{label}}">{{/date}}{{#select}}<select name="{{name}}">{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/select}}{{/fields}}<button type="submit">{{button}}</button></form>
            """,
        "facts": """
            <dl class="facts">{{#facts}}<dt>{{label}}</dt><dd>{{>parts}}</dd>{{/facts}}</dl>
            """,
        "items": """
            <ul>{{#items}}<li>{{.}}</li>{{/items}}</ul>
            """,
        "pages": """
            <nav class="pages">{{#previous}}<a href="{{previous}}">{{previousLabel}}</a>{{/previous}} <span>{{position}}</span> {{#next}}<a href="{{next}}">{{nextLabel}}</a>{{/next}}</nav>
            """,
    ]

    /// The templates, parsed; a template that does not parse is a mistake in this file, which
    /// `DashboardTemplateTests` catches (every template parses and renders).
    static func load() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in sources { try library.register(text, named: name) }
        return library
    }

    static let library: MustacheLibrary = (try? load()) ?? MustacheLibrary()

    /// `object` rendered with the template `name`.
    static func render(_ name: String, _ object: [String: Any]) -> String {
        library.render(object, withTemplate: name) ?? ""
    }
}
