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
        let table = HTML.table(headers: [hostile], rows: [[HTML.escape(hostile)]])
        #expect(!table.contains("<script>") && table.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"))
        #expect(table.contains("data-label=\"&lt;script&gt;"))
        let form = HTML.form(action: "/office/x\"><script>", csrf: hostile, fields: "", button: hostile)
        #expect(!form.contains("<script>"))
        let messages = OfficeDashboard.messages(notice: hostile, errors: [hostile])
        #expect(!messages.contains("<script>") && messages.contains("class=\"notice\"") && messages.contains("class=\"error\""))
        // An empty list says so in one cell across the table.
        #expect(HTML.table(headers: ["a", "b"], rows: []).contains("<td colspan=\"2\" class=\"empty\">—</td>"))
        #expect(OfficeDashboard.messages() == "")
    }
}
