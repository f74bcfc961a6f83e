// Builds a field laptop's replica for benchmarks: N workers' accounts, each with M months of
// monthly deposits ending last month, as real signed change-sets from N worker devices, and an
// office device's confirmations of every deposit but the latest, merged through the store as a
// sync would deliver them.
//
//   provident-replica-generator --data-dir DIR [--accounts 10000] [--months 120]
//
// The device's passphrase is written to DIR/bench.pass for the benchmark script. Account ids are
// acc-bench-00000 … so the benchmark can name them.
import Foundation
import ProvidentBenchSupport
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

struct Arguments {
    var dataDirectory = ""
    var accounts = 10_000
    var months = 120

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--data-dir": dataDirectory = iterator.next() ?? ""
            case "--accounts": accounts = Int(iterator.next() ?? "") ?? accounts
            case "--months": months = Int(iterator.next() ?? "") ?? months
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(64)
            }
        }
        if dataDirectory.isEmpty {
            FileHandle.standardError.write(Data("usage: provident-replica-generator --data-dir DIR [--accounts N] [--months M]\n".utf8))
            exit(64)
        }
    }
}

/// Worker `n`'s history: an enrolment, then one deposit a month for `months` months, ending last
/// month; and the office's outcomes for all but the last deposit.
func history(worker n: Int, months: Int, lastMonth: Period) throws -> (worker: [SignedChangeSet], outcomes: [ProvidentSync.Operation]) {
    var seed = [UInt8](repeating: 0, count: 32)
    withUnsafeBytes(of: UInt64(n + 1).bigEndian) { seed.replaceSubrange(24..<32, with: $0) }
    let key = try SigningKey(seed: seed)
    let device = DeviceID(publicKey: key.publicKey)
    let first = lastMonth.adding(months: -(months - 1))
    guard var account = Samples.account(n, id: String(format: "acc-bench-%05d", n), enrolledOn: first.firstDay) else {
        fatalError("the generator built an unreadable account")
    }
    account.verified = true

    var result: [SignedChangeSet] = []
    var previous = Digest256.zero
    func append(_ sequence: UInt64, _ day: CivilDate, _ action: String, _ operation: ProvidentSync.Operation) throws {
        let millis = UInt64(day.daysSinceEpoch) * 86_400_000 + 3_600_000 + UInt64(n)
        let signed = try SignedChangeSet(signing: ChangeSet(
            device: device, sequence: sequence, previous: previous, time: HLCTimestamp(wallMillis: millis, counter: 0),
            action: action, operations: [operation]), with: key)
        previous = signed.id
        result.append(signed)
    }
    try append(1, first.firstDay, "account.enroll", Operation(record: account.recordKey, kind: .create, fields: account.createFields))
    var outcomes: [ProvidentSync.Operation] = []
    for month in 0..<months {
        let period = first.adding(months: month)
        let day = period.firstDay.adding(days: 9)
        var random = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: UInt64(n * 1_000 + month).bigEndian) { random.replaceSubrange(4..<12, with: $0) }
        let deposit = Deposit(id: "dep-\(n)-\(month)", accountID: account.id, amountFen: account.agreement.monthlyFen, kind: .monthly,
                              periods: [period], method: .bankTransfer, reference: ReferenceCode(randomBytes: random).value,
                              recordedAt: Instant(millisSinceEpoch: Int64(day.daysSinceEpoch) * 86_400_000 + 3_600_000))
        try append(UInt64(month + 2), day, "deposit.record", Operation(record: deposit.recordKey, kind: .fact, fields: deposit.fields))
        if month < months - 1 {
            let outcome = DepositOutcome(depositID: deposit.id, decision: .confirmed, reason: nil, bankDate: day.adding(days: 1),
                                         decidedAt: Instant(millisSinceEpoch: Int64(day.adding(days: 3).daysSinceEpoch) * 86_400_000))
            outcomes.append(Operation(record: RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: deposit.id)),
                                      kind: .fact, fields: outcome.fields))
        }
    }
    return (result, outcomes)
}

/// The office device signs one change-set of outcomes per worker (at most 256 operations each).
struct Office {
    let key = SigningKey.generate()
    var sequence: UInt64 = 0
    var previous = Digest256.zero

    mutating func confirm(_ outcomes: [ProvidentSync.Operation], at now: Instant) throws -> [SignedChangeSet] {
        var result: [SignedChangeSet] = []
        var start = 0
        while start < outcomes.count {
            let chunk = Array(outcomes[start..<min(start + ChangeSet.maxOperations, outcomes.count)])
            sequence += 1
            let signed = try SignedChangeSet(signing: ChangeSet(
                device: DeviceID(publicKey: key.publicKey), sequence: sequence, previous: previous,
                time: HLCTimestamp(wallMillis: UInt64(now.millisSinceEpoch), counter: UInt16(truncatingIfNeeded: sequence)),
                action: "reconcile.confirm", operations: chunk), with: key)
            previous = signed.id
            result.append(signed)
            start += chunk.count
        }
        return result
    }
}

let arguments = Arguments(CommandLine.arguments)
let now = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000))
let lastMonth = now.shanghaiDate.period.adding(months: -1)
let directory = arguments.dataDirectory
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
for name in ["device.key", "replica.sqlite", "replica.sqlite-wal", "replica.sqlite-shm"] {
    try? FileManager.default.removeItem(atPath: directory + "/" + name)
}

let passphrase = "benchmark passphrase"
try (passphrase + "\n").write(toFile: directory + "/bench.pass", atomically: true, encoding: .utf8)
let laptop = SigningKey.generate()
let replica = try ReplicaDatabase.create(path: directory + "/replica.sqlite", identity: laptop, role: .field, branch: "bench", now: now)
try SealedKeyFile.write(try SealedKeyFile.seal(laptop, passphrase: SecretBytes(utf8: passphrase)), to: directory + "/device.key")

// Benchmarks record repeated deposits on any account: allow lump deposits on this laptop.
try "name: benchmark\ndeposits: {lumpAllowed: true}\n".write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)

var office = Office()
let clock = ContinuousClock()
let started = clock.now
let batch = 100
var merged = 0
for start in stride(from: 0, to: arguments.accounts, by: batch) {
    let workers = Array(start..<min(start + batch, arguments.accounts))
    // Signing is the slow part and each worker's history is independent: sign on every core,
    // each worker into its own slot.
    let slots = UnsafeMutableBufferPointer<Result<(worker: [SignedChangeSet], outcomes: [ProvidentSync.Operation]), any Error>>
        .allocate(capacity: workers.count)
    slots.initialize(repeating: .success(([], [])))
    defer { slots.deallocate() }
    let results = SlotWriter(slots)
    DispatchQueue.concurrentPerform(iterations: workers.count) { index in
        results.store(Result { try history(worker: workers[index], months: arguments.months, lastMonth: lastMonth) }, at: index)
    }
    var changeSets: [SignedChangeSet] = []
    for slot in slots {
        let (worker, outcomes) = try slot.get()
        changeSets += worker
        changeSets += try office.confirm(outcomes, at: now)
    }
    try replica.mergeVerified(changeSets, now: now)
    merged += changeSets.count
    let seconds = Double((clock.now - started).components.seconds)
    FileHandle.standardError.write(Data("\r\(workers.last.map { $0 + 1 } ?? 0)/\(arguments.accounts) accounts, \(merged) change-sets, \(Int(seconds)) s".utf8))
}
FileHandle.standardError.write(Data("\n".utf8))
let elapsed = clock.now - started
print("generated \(arguments.accounts) accounts × \(arguments.months) months = \(merged) change-sets in \(elapsed) into \(directory)")

/// Lets concurrent signers each write their own slot of one buffer; no slot is written twice.
struct SlotWriter<Value>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Value>
    init(_ buffer: UnsafeMutableBufferPointer<Value>) { self.buffer = buffer }
    func store(_ value: Value, at index: Int) { buffer[index] = value }
}
