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

    /// How long an ingest transaction (pushes judged together, a bundle, the office's own
    /// change) held its writer, from its first statement until its caller went on after the
    /// commit. On SQLite there is one writer: these seconds over the seconds that passed are
    /// how busy it was, and their sum over the change-sets accepted is what one change-set
    /// costs it. Under load the caller can wait a few milliseconds for a thread after the
    /// commit, so the sum can come to a little more than the time that passed.
    static func ingestTransaction(held duration: Duration) {
        let (seconds, attoseconds) = duration.components
        Timer(label: "provident_ingest_transaction_seconds").recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    static func snapshotPageServed() {
        Counter(label: "provident_snapshot_pages_total").increment()
    }

    static func signInFailed() {
        Counter(label: "provident_sign_in_failures_total").increment()
    }
}
