import Metrics

/// What the core counts, through swift-metrics (the service exports it in the Prometheus text
/// format at `/metrics`; without a metrics backend the counts go nowhere).
enum ServerMetrics {
    /// Change-sets judged, by result and refusal code: from pushes and from bundles.
    static func judged(_ answers: [PushAnswer], via channel: String) {
        for answer in answers {
            Counter(label: "provident_change_sets_total",
                    dimensions: [("channel", channel), ("status", answer.status.rawValue), ("code", answer.code ?? "")]).increment()
        }
    }

    static func snapshotPageServed() {
        Counter(label: "provident_snapshot_pages_total").increment()
    }

    static func signInFailed() {
        Counter(label: "provident_sign_in_failures_total").increment()
    }
}
