import Foundation
import Hummingbird
import Prometheus
import ProvidentCrypto
import ProvidentServerCore
import ProvidentSync

/// `GET /metrics`: the Prometheus text format, for the bearer token in `metrics.token` (there is
/// no `/metrics` without one). Counters and request timings come through swift-metrics as they
/// happen; the feed head, devices by status and the database's size are read at each scrape.
struct MetricsEndpoint: Sendable {
    let core: ServerCore
    let registry: PrometheusCollectorRegistry
    let token: String
    let connections: ConnectionTable

    func addRoutes(to router: Router<ProvidentRequestContext>) {
        router.get("/metrics") { request, context in
            try await self.serve(request, context: context)
        }
    }

    func serve(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let given = request.headers[.authorization] ?? ""
        guard Self.sameText(given, "Bearer " + token) else {
            let l = ErrorShapeMiddleware<ProvidentRequestContext>.language(request)
            throw APIError(.unauthorized, "auth.metrics_token",
                           l.pick("/metrics needs the bearer token set in metrics.token.", "/metrics 需要 metrics.token 中设置的持有者令牌。"))
        }
        let (head, devices) = try await core.store.read { tx in (try await tx.feedHead(), try await tx.devices()) }
        registry.makeGauge(name: "provident_feed_head", help: "The feed's last position.").set(Double(head))
        for status in ["active", "revoked", "quarantined"] {
            registry.makeGauge(name: "provident_devices", labels: [("status", status)], help: "Devices the server knows, by status.")
                .set(Double(devices.filter { $0.status.rawValue == status }.count))
        }
        registry.makeGauge(name: "provident_connections", help: "HTTP connections open now.").set(Double(connections.open))
        let bytes = try await core.store.databaseBytes()
        registry.makeGauge(name: "provident_database_bytes", labels: [("backend", core.store.backend)],
                           help: "The database's size as it counts it (SQLite pages in use, pg_database_size).").set(Double(bytes))
        if core.store.backend == "sqlite" {
            for (part, suffix) in [("database", ""), ("wal", "-wal")] {
                let size = (try? FileManager.default.attributesOfItem(atPath: core.store.location + suffix)[.size] as? NSNumber)?.doubleValue ?? 0
                registry.makeGauge(name: "provident_sqlite_bytes", labels: [("file", part)], help: "The SQLite database's files, in bytes.").set(size)
            }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    /// Compares two texts in time that depends on their length only.
    static func sameText(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension PrometheusMetricsFactory {
    /// The factory the service bootstraps swift-metrics with: names and labels made valid for
    /// Prometheus (`http.server.requests` becomes `http_server_requests`).
    public static func provident(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            func clean(_ text: String) -> String {
                String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
            }
            return (clean(name), labels.map { (clean($0.0), $0.1) })
        }
        return factory
    }
}
