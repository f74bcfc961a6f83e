import Metrics

/// What the core counts, through swift-metrics (the service exports it in the Prometheus text
/// format at `/metrics`; without a metrics backend the counts go nowhere).
enum ServerMetrics {
    /// Change-sets judged, by result and refusal code: from pushes and from bundles.
    static func judged(_ answers: [PushAnswer], via channel: String) {
        // One counter update per kind of answer, not per change-set: a push holds up to 500.
        var counts: [String: [String: Int]] = [:]
        for answer in answers { counts[answer.status.rawValue, default: [:]][answer.code ?? "", default: 0] += 1 }
        for (status, codes) in counts {
            for (code, count) in codes {
                Counter(label: "provident_change_sets_total", dimensions: [("channel", channel), ("status", status), ("code", code)])
                    .increment(by: count)
            }
        }
    }

    static func snapshotPageServed() {
        Counter(label: "provident_snapshot_pages_total").increment()
    }

    static func signInFailed() {
        Counter(label: "provident_sign_in_failures_total").increment()
    }
}
