import Foundation
import Hummingbird
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// The people who sign in to the dashboard: added, removed and their own password changed from
/// the dashboard, as `provident-server office` does on the command line.
extension OfficeDashboard {
    func addUserRoutes(to group: RouterGroup<OfficeContext>) {
        group.get("users", use: usersPage)
        group.post("users", use: addUser)
        group.post("users/:name/remove", use: removeUser)
        group.post("users/:name/disable", use: disableUser)
        group.post("users/:name/enable", use: enableUser)
        group.post("password", use: changePassword)
    }

    @Sendable func usersPage(_ request: Request, context: OfficeContext) async throws -> Response {
        try await users(try context.signedIn(), request: request)
    }

    func users(_ session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = session.language
        let all = try await core.officeUsers()
        let rows = all.map { user -> [Cell] in
            let path = "/office/users/\(PathSegment.encode(user.name))"
            let actions: Cell = user.name == session.userName ? [.text(l.pick("(you)", "（本人）"))] : [
                user.disabledAt == nil
                    ? .form(Form(action: path + "/disable", csrf: session.csrfToken, button: l.pick("Disable", "停用"), danger: true))
                    : .form(Form(action: path + "/enable", csrf: session.csrfToken, button: l.pick("Enable", "启用"))),
                .text(" "), .form(Form(action: path + "/remove", csrf: session.csrfToken, button: l.pick("Remove", "删除"), danger: true)),
            ]
            let state: Part = user.disabledAt.map { .tag(l.pick("disabled", "已停用") + " " + $0.shanghaiDisplay, kind: "bad") } ?? .tag(l.pick("active", "正常"), kind: "ok")
            return [[.text(user.name)], [.text(user.createdAt.shanghaiDisplay)], [state], actions]
        }
        func field(_ name: String, _ label: String, type: String = "password") -> Form.Input {
            Form.Input(type: type, name: name, placeholder: label, autocomplete: type == "password" ? "new-password" : "off")
        }
        let minimum = PasswordHash.minimumLength
        var body = Body(heading: l.pick("Office users", "中心用户") + " (\(all.count))", notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.panels = [
            .init(content: HTML.table(headers: [l.pick("Name", "用户名"), l.pick("Added (Beijing)", "添加时间"), l.pick("Status", "状态"), l.pick("Action", "操作")], rows: rows)),
            .init(title: l.pick("Add a user", "添加用户"),
                  paragraphs: [l.pick("Letters, digits, . _ - (at most 32); a password of at least \(minimum) characters, given to the person in private.",
                                      "用户名由字母、数字及 . _ - 组成（最多 32 个）；密码至少 \(minimum) 个字符，请私下交给本人。")],
                  content: Form(action: "/office/users", csrf: session.csrfToken,
                                inputs: [field("name", l.pick("user name", "用户名"), type: "text"), field("password", l.pick("password", "密码")),
                                         field("again", l.pick("password again", "再次输入密码"))], button: l.pick("Add", "添加")).rendered),
            .init(title: l.pick("Change your password", "修改本人密码"),
                  paragraphs: [l.pick("Your other sessions end; this one goes on.", "您的其他登录会话将结束；本会话继续有效。")],
                  content: Form(action: "/office/password", csrf: session.csrfToken,
                                inputs: [field("current", l.pick("current password", "当前密码")), field("password", l.pick("new password", "新密码")),
                                         field("again", l.pick("new password again", "再次输入新密码"))], button: l.pick("Change", "修改")).rendered),
        ]
        return page(l, title: l.pick("Office users", "中心用户"), body: body.rendered, session: session, current: "/office/users", status: status)
    }

    @Sendable func addUser(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard form["password"] == form["again"] else {
            return try await users(session, request: request, error: l.pick("The two passwords differ; nothing was changed.", "两次输入的密码不同；未做任何更改。"),
                                   status: .badRequest)
        }
        do {
            try await core.addOfficeUser(name, password: SecretBytes(copying: Array((form["password"] ?? "").utf8)))
        } catch {
            return try await users(session, request: request, error: Self.message(error, l), status: .badRequest)
        }
        context.logger.info("office user added", metadata: ["office.user": .string(session.userName), "office.added": .string(name)])
        return redirect("/office/users?done=user-added")
    }

    @Sendable func removeUser(_ request: Request, context: OfficeContext) async throws -> Response {
        try await onAnotherUser(request, context, done: "user-removed", log: "office user removed",
                                yourself: { $0.pick("You cannot remove yourself; ask another office user.", "不能删除本人；请由其他中心用户操作。") }) {
            try await core.removeOfficeUser($0)
        }
    }

    @Sendable func disableUser(_ request: Request, context: OfficeContext) async throws -> Response {
        try await onAnotherUser(request, context, done: "user-disabled", log: "office user disabled",
                                yourself: { $0.pick("You cannot disable yourself; ask another office user.", "不能停用本人；请由其他中心用户操作。") }) {
            try await core.setOfficeUserDisabled($0, true)
        }
    }

    @Sendable func enableUser(_ request: Request, context: OfficeContext) async throws -> Response {
        try await onAnotherUser(request, context, done: "user-enabled", log: "office user enabled",
                                yourself: { $0.pick("You cannot enable yourself; ask another office user.", "不能启用本人；请由其他中心用户操作。") }) {
            try await core.setOfficeUserDisabled($0, false)
        }
    }

    /// Removes, disables or enables the user the path names; nobody does it to themselves, so
    /// one user can always sign in. A refusal is said on the users page; success redirects.
    func onAnotherUser(_ request: Request, _ context: OfficeContext, done: String, log: String, yourself: (Language) -> String,
                       _ action: (String) async throws -> Void) async throws -> Response {
        let session = try context.signedIn(), l = session.language
        guard let name = context.parameters.get("name").flatMap({ $0.removingPercentEncoding }) else { return notFound(l, session: session) }
        guard name != session.userName else { return try await users(session, request: request, error: yourself(l), status: .badRequest) }
        do {
            try await action(name)
        } catch {
            return try await users(session, request: request, error: Self.message(error, l), status: .conflict)
        }
        context.logger.info(Logger.Message(stringLiteral: log), metadata: ["office.user": .string(session.userName), "office.changed": .string(name)])
        return redirect("/office/users?done=" + done)
    }

    @Sendable func changePassword(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard form["password"] == form["again"] else {
            return try await users(session, request: request, error: l.pick("The two new passwords differ; nothing was changed.", "两次输入的新密码不同；未做任何更改。"),
                                   status: .badRequest)
        }
        let changed: Bool
        do {
            changed = try await core.changePassword(session.userName, current: SecretBytes(copying: Array((form["current"] ?? "").utf8)),
                                                    new: SecretBytes(copying: Array((form["password"] ?? "").utf8)),
                                                    sessionToken: request.cookies[Self.sessionCookie]?.value, address: context.remoteAddress)
        } catch {
            return try await users(session, request: request, error: Self.message(error, l), status: .badRequest)
        }
        guard changed else {
            return try await users(session, request: request, error: l.pick("The current password is wrong; nothing was changed.", "当前密码不正确；未做任何更改。"),
                                   status: .forbidden)
        }
        return redirect("/office/users?done=password-changed")
    }
}

/// A path segment of a dashboard link: everything but RFC 3986's unreserved characters
/// (ASCII letters and digits, `-._~`) percent-encoded; the routes decode it again.
enum PathSegment {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
