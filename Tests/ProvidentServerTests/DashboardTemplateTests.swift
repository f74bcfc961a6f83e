@testable import ProvidentServer
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

/// The dashboard's templates: they parse, and what comes from data is escaped.
@Suite struct DashboardTemplateTests {
    @Test func everyTemplateParsesAndRenders() throws {
        let library = try OfficeTemplates.load()
        for name in OfficeTemplates.sources.keys {
            #expect(library.render([String: Any](), withTemplate: name) != nil, "\(name)")
        }
    }

    @Test func textFromDataIsEscapedWhereverItGoes() {
        let hostile = "<script>alert('x')</script>&\""
        let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        let form = Form(action: "/office/x\"><script>", csrf: hostile, hidden: [(hostile, hostile)], inputs: [Form.Input(name: hostile, placeholder: hostile)],
                        button: hostile, cancel: (hostile, hostile))
        let table = HTML.table(headers: [hostile], rows: [[[.text(hostile), .number(hostile), .link(hostile, href: hostile), .tag(hostile, kind: hostile),
                                                            .lineBreak, .form(form)]]])
        #expect(!table.contains("<script>") && table.contains("data-label=\"\(escaped)\""))
        #expect(table.components(separatedBy: escaped).count > 8, "\(table)")
        let facts = HTML.facts([(hostile, [.text(hostile)])])
        let filters = HTML.filters(action: hostile, fields: [.text(name: hostile, value: hostile, placeholder: hostile), .date(name: hostile, value: hostile, label: hostile),
                                                             .choice(name: hostile, options: [(hostile, hostile)], selected: hostile)], button: hostile)
        var body = Body(heading: hostile, notice: hostile, errors: [hostile])
        body.asof = hostile
        body.intro = hostile
        body.links = [(hostile, hostile)]
        body.panels = [.init(title: hostile, note: hostile, paragraphs: [hostile])]
        for html in [facts, filters, HTML.items([hostile]), body.rendered] {
            #expect(!html.contains("<script>") && html.contains(escaped), "\(html)")
        }
        // The selected choice is marked; an empty list says so in one cell across the table.
        #expect(filters.contains("selected>"))
        #expect(HTML.table(headers: ["a", "b"], rows: []).contains("<td colspan=\"2\" class=\"empty\">—</td>"))
        #expect(OfficeDashboard.messages() == "")
    }
}
