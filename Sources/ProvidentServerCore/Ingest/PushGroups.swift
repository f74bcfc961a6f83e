import ProvidentDomain
import ProvidentSync
import Synchronization

/// Pushes waiting for the writer, judged together in one write transaction.
///
/// A push that arrives while the writer is busy waits for the next transaction, and every push
/// that arrived meanwhile goes into that one transaction with it: one commit, one wait for the
/// disk and one extension of the feed's log for all of them. Each push is still all or nothing
/// and answered only once the transaction is committed (sync-protocol.md §11.5): it runs inside
/// a savepoint, so a push refused as a whole (a replayed request, a gap, a fork or a clock
/// regression in its device's chain) leaves nothing behind while the others go on. An error
/// that is not one push's (the database failing) fails every push of the transaction.
///
/// The first push to find no transaction on its way asks for one, which takes the pushes
/// waiting when it begins, so those that arrive meanwhile join it. At most two transactions of
/// this server's run at once (`maxTransactions`); pushes that arrive while two run wait for the
/// next, which the first to end asks for. On SQLite the second waits for the writer anyway. On
/// PostgreSQL, where every push could have a connection and a transaction of its own, each would
/// hold the feed's end (`reserveFeedPositions`) over its round trips and its commit while the
/// others queued on it: with 100 devices pushing, 283 transactions for 300 pushes spent 14.6 s
/// waiting there (pg_stat_statements) in a 3 s run. Two let one commit while the next reads and
/// locks what its pushes need.
final class PushGroups: Sendable {
    /// A push waiting for its transaction.
    struct Waiting: Sendable {
        let batch: [SignedChangeSet]
        let device: RegisteredDevice
        let nonce: String
        let language: Language
        let answer: Answer
    }

    /// A push's answers and the time its transaction judged it by.
    struct Judged: Sendable {
        let answers: [PushAnswer]
        let now: Instant
    }

    /// A push's answer, given once by the transaction that judged it.
    final class Answer: Sendable {
        private let state = Mutex<(given: Result<Judged, any Error>?, waiting: CheckedContinuation<Judged, any Error>?)>((nil, nil))

        func give(_ result: Result<Judged, any Error>) {
            let waiting = state.withLock { state in
                state.given = result
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.resume(with: result)
        }

        var value: Judged {
            get async throws {
                try await withCheckedThrowingContinuation { continuation in
                    let given = state.withLock { state in
                        if state.given == nil { state.waiting = continuation }
                        return state.given
                    }
                    if let given { continuation.resume(with: given) }
                }
            }
        }
    }

    /// The pushes one transaction took, kept for it when the store runs it again.
    final class Taken: Sendable {
        private let group = Mutex<[Waiting]?>(nil)

        /// The pushes taken, taking them from `groups` the first time.
        func pushes(from groups: PushGroups) -> [Waiting] {
            group.withLock { taken in
                if let taken { return taken }
                let group = groups.take()
                taken = group
                return group
            }
        }
    }

    /// At most this many change-sets go into one transaction (at least one push always does).
    static let maxChangeSets = 2_000

    /// At most this many transactions of this server's run at once (see the type's comment).
    static let maxTransactions = 2

    /// The pushes waiting; whether a transaction is on its way to take them; how many have taken
    /// theirs and not ended.
    private let state = Mutex<(waiting: [Waiting], onItsWay: Bool, running: Int)>(([], false, 0))

    /// Adds a push; true when the caller is to ask for a transaction: none is on its way to take
    /// the push, and fewer than the limit run.
    func add(_ push: Waiting) -> Bool {
        state.withLock { state in
            state.waiting.append(push)
            guard !state.onItsWay, state.running < Self.maxTransactions else { return false }
            state.onItsWay = true
            return true
        }
    }

    /// Takes the pushes waiting, up to the limit, for the transaction that was on its way.
    private func take() -> [Waiting] {
        state.withLock { state in
            var count = 0
            var taken = 0
            while taken < state.waiting.count, taken == 0 || count + state.waiting[taken].batch.count <= Self.maxChangeSets {
                count += state.waiting[taken].batch.count
                taken += 1
            }
            let group = Array(state.waiting.prefix(taken))
            state.waiting.removeFirst(taken)
            state.onItsWay = false
            state.running += 1
            return group
        }
    }

    /// Called by a transaction when it has ended: true when the caller is to ask for the next,
    /// for pushes that came while the limit ran or did not fit, and none is on its way for them.
    func ended() -> Bool {
        state.withLock { state in
            state.running -= 1
            guard !state.waiting.isEmpty, !state.onItsWay else { return false }
            state.onItsWay = true
            return true
        }
    }
}

extension ServerError {
    /// Whether the error refuses one push as a whole, before anything of it was judged.
    var refusesOnePush: Bool {
        switch self {
        case .replay, .chainGap, .chainFork, .chainTime: true
        default: false
        }
    }
}

extension ServerCore {
    /// Judges a device's push with the others waiting (`PushGroups`): its nonce recorded and the
    /// device seen, its change-sets judged, all in the transaction, committed before it returns.
    /// A fork quarantines the device and raises the office's alert.
    func judgeWithOthers(_ batch: [SignedChangeSet], from device: RegisteredDevice, nonce: String,
                         language: Language) async throws -> PushOutcome {
        let answer = PushGroups.Answer()
        if pushes.add(PushGroups.Waiting(batch: batch, device: device, nonce: nonce, language: language, answer: answer)) {
            await judgeWaitingPushes()
        }
        let judged = try await quarantiningAFork(of: device.id) { try await answer.value }
        return outcome(of: judged.answers, via: "push", now: judged.now)
    }

    /// One transaction for the pushes waiting: each gets its answers, or why it got none.
    func judgeWaitingPushes() async {
        let taken = PushGroups.Taken()
        let now = clock()
        let expires = nonceExpiry(now)
        do {
            let results = try await ingest(now: now) { ingest in
                var results: [Result<[PushAnswer], any Error>] = []
                for push in taken.pushes(from: self.pushes) {
                    try await ingest.tx.savepoint("push")
                    do {
                        guard try await ingest.tx.useNonce(push.nonce, device: push.device.id, expiresAt: expires) else { throw ServerError.replay }
                        try await ingest.tx.touch(push.device.id, at: now)
                        results.append(.success(try await ingest.accept(push.batch, from: push.device, language: push.language)))
                    } catch let error as ServerError where error.refusesOnePush {
                        try await ingest.tx.rollback(toSavepoint: "push")
                        results.append(.failure(error))
                    }
                    try await ingest.tx.release(savepoint: "push")
                }
                return results
            } finished: { ingest, results in
                zip(taken.pushes(from: self.pushes), results).map { push, result in result.map { ingest.placed($0, device: push.device.id) } }
            }
            for (push, result) in zip(taken.pushes(from: pushes), results) {
                push.answer.give(result.map { PushGroups.Judged(answers: $0, now: now) })
            }
        } catch {
            for push in taken.pushes(from: pushes) { push.answer.give(.failure(error)) }
        }
        // Pushes that came meanwhile, or did not fit, get the next transaction.
        if pushes.ended() { Task { await judgeWaitingPushes() } }
    }
}
