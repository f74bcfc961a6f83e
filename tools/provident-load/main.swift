// Load for the sync service: many worker devices enrol, open accounts, then push signed deposit
// change-sets concurrently over HTTP. Prints accepted change-sets per second beside libsodium's
// Ed25519 verify/s measured in the same run on the same machine.
//
//   provident-load --server URL [--devices 200] [--deposits 500] [--batch 100] [--concurrency 8]
//   provident-load --server URL --invite CODE [--repeats 20]
//
// With --invite, it pushes nothing: it enrols an office device with the invite code, then reads
// the server as a client that verifies nothing would (the limit of the server and the wire): the
// whole feed in pages of 2,000, the whole snapshot in pages of 5,000 (records/s), then one
// signed GET of the feed's last 10 entries, `repeats` times (median and 95th percentile, ms).
//
// The server must allow that many self-enrolments from one address
// (PROVIDENT_ENROLMENT_SELF_PER_HOUR) and lump deposits (its policy).
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProvidentBenchSupport
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var server = ""
    var devices = 200
    var deposits = 500
    var batch = 100
    var concurrency = 8
    var invite: String?
    var repeats = 20

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            let value = arguments.next() ?? ""
            // A count the option needs, or the run ends saying which option and why.
            func count(minimum: Int = 1) -> Int {
                guard let number = Int(value), number >= minimum else {
                    FileHandle.standardError.write(Data("provident-load: \(argument) takes a whole number of at least \(minimum), not “\(value)”\n".utf8))
                    exit(64)
                }
                return number
            }
            switch argument {
            case "--server": server = value
            case "--devices": devices = count()
            case "--deposits": deposits = count()
            case "--batch": batch = count()
            case "--concurrency": concurrency = count()
            case "--invite": invite = value
            case "--repeats": repeats = count()
            default:
                FileHandle.standardError.write(Data("provident-load: unknown argument \(argument)\n".utf8))
                exit(64)
            }
        }
        guard !server.isEmpty else {
            FileHandle.standardError.write(Data("usage: provident-load --server URL [--devices N] [--deposits M] [--batch B] [--concurrency C]\n".utf8))
            exit(64)
        }
    }
}

/// One simulated worker device: its key and its signed change-sets, chained.
struct Worker: Sendable {
    let key: SigningKey
    var changeSets: [SignedChangeSet] = []

    var id: DeviceID { DeviceID(publicKey: key.publicKey) }

    init(index: Int, deposits: Int, now: UInt64) throws {
        key = SigningKey.generate()
        let device = DeviceID(publicKey: key.publicKey)
        let today = Instant(millisSinceEpoch: Int64(now)).shanghaiDate
        guard let account = Samples.account(index, id: "acc-load-\(Hex.encode(SecureRandom.bytes(count: 8)))", enrolledOn: today) else {
            throw LoadFailure("could not build account \(index)")
        }
        var previous = Digest256.zero
        func add(_ sequence: UInt64, _ action: String, _ operation: ProvidentSync.Operation) throws {
            let signed = try SignedChangeSet(signing: ChangeSet(device: device, sequence: sequence, previous: previous,
                                                               time: HLCTimestamp(wallMillis: now, counter: UInt16(truncatingIfNeeded: sequence)),
                                                               action: action, operations: [operation]), with: key)
            previous = signed.id
            changeSets.append(signed)
        }
        try add(1, "account.enroll", Operation(record: account.recordKey, kind: .create, fields: account.createFields))
        for n in 0..<deposits {
            // Ids as devices make them: time first, then randomness.
            let deposit = Deposit(id: "dep-\(String(now, radix: 16))\(String(format: "%05x", n))\(Hex.encode(SecureRandom.bytes(count: 4)))",
                                  accountID: account.id, amountFen: 10_000 + Int64(n),
                                  kind: .lump, periods: [], method: .bankTransfer,
                                  reference: ReferenceCode(randomBytes: SecureRandom.bytes(count: 12)).value,
                                  recordedAt: Instant(millisSinceEpoch: Int64(now)))
            try add(UInt64(n + 2), "deposit.record", Operation(record: deposit.recordKey, kind: .fact, fields: deposit.fields))
        }
    }
}

struct LoadFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Sends a signed request and returns the status and decoded body.
func send(_ client: HTTPClient, _ base: String, _ key: SigningKey, _ method: HTTPMethod, _ path: String, query: String = "",
          body: CanonicalValue?) async throws -> (Int, CanonicalValue?) {
    let bytes = try body.map { try CanonicalEncoder.encode($0) } ?? []
    let signature = RequestSignature(method: method.rawValue, path: path, query: query.isEmpty ? "" : "?" + query, device: DeviceID(publicKey: key.publicKey),
                                     dateMillis: Int64(Date().timeIntervalSince1970 * 1_000),
                                     nonce: Hex.encode(SecureRandom.bytes(count: 16)), body: bytes)
    var request = HTTPClientRequest(url: base + path + (query.isEmpty ? "" : "?" + query))
    request.method = method
    for header in signature.headers(signedWith: key) { request.headers.add(name: header.name, value: header.value) }
    if body != nil { request.body = .bytes(ByteBuffer(bytes: bytes)) }
    let response = try await client.execute(request, timeout: .seconds(120))
    let answer = Array(try await response.body.collect(upTo: 64 * 1_048_576).readableBytesView)
    return (Int(response.status.code), try? CanonicalDecoder.decode(answer, limit: 64 * 1_048_576))
}

func accepted(_ answer: CanonicalValue?) -> Int {
    answer?.objectValue?["results"]?.arrayValue?.filter { $0.objectValue?["status"]?.stringValue == "accepted" }.count ?? 0
}

let options = Options()
let clock = ContinuousClock()
let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

// libsodium's verify rate on this machine, now, single-threaded.
let probe = SigningKey.generate()
let message = [UInt8](repeating: 0x5a, count: 480)
let probeSignature = probe.signature(for: message)
var verified = 0
let probeStart = clock.now
while clock.now - probeStart < .seconds(1) {
    for _ in 0..<500 { if probe.publicKey.isValidSignature(probeSignature, for: message) { verified += 1 } }
}
let elapsedProbe = clock.now - probeStart
let verifyPerSecond = Double(verified) / seconds(elapsedProbe)

/// Ends the run with what went wrong, on one line, instead of a crash's backtrace.
func fail(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("provident-load: \(error)\n".utf8))
    exit(1)
}

if let invite = options.invite {
    do { try await read(invite: invite) } catch { fail(error) }
    exit(0)
}

print("preparing \(options.devices) devices × \(options.deposits) deposits …")
let now = UInt64(Date().timeIntervalSince1970 * 1_000)
var workers: [Worker] = []
do {
    for index in 0..<options.devices { workers.append(try Worker(index: index, deposits: options.deposits, now: now)) }
} catch { fail(error) }
let client = HTTPClient.shared

// Enrol every device and open its account (not timed).
do { try await withThrowingTaskGroup(of: Void.self) { group in
    for chunk in stride(from: 0, to: workers.count, by: max(1, workers.count / options.concurrency)) {
        let slice = Array(workers[chunk..<min(chunk + max(1, workers.count / options.concurrency), workers.count)])
        group.addTask {
            for worker in slice {
                let (status, answer) = try await send(client, options.server, worker.key, .POST, "/v1/devices",
                                                      body: ["enrolment": "self", "publicKey": .string(Base64.encode(worker.key.publicKey.bytes))])
                guard status == 201 || status == 200 else { throw LoadFailure("enrolment: HTTP \(status) \(String(describing: answer))") }
                let (pushed, result) = try await send(client, options.server, worker.key, .POST, "/v1/push",
                                                      body: ["changeSets": [worker.changeSets[0].envelopeValue]])
                guard pushed == 200, accepted(result) == 1 else {
                    let code = result?.objectValue?["results"]?.arrayValue?.first?.objectValue?["code"]?.stringValue
                    // The accounts' identity numbers follow the devices' order, so a second load
                    // into one database asks for accounts the first one opened.
                    if code == "account.id_number_enrolled" {
                        throw LoadFailure("the server already holds accounts for this load's identity numbers (from an earlier load): load into a fresh database")
                    }
                    throw LoadFailure("account: HTTP \(pushed) \(String(describing: result))")
                }
            }
        }
    }
    try await group.waitForAll()
} } catch { fail(error) }

// The timed part: every device pushes its deposits in batches, devices concurrently.
let total = options.devices * options.deposits
print("pushing \(total) change-sets in batches of \(options.batch), \(options.concurrency) requests at a time …")
// Flushed at once (every output stream): a caller reading these lines as they come measures
// the timed part between them.
fflush(nil)
let started = clock.now
let acceptedCount: Int
do { acceptedCount = try await withThrowingTaskGroup(of: Int.self) { group in
    let perTask = (workers.count + options.concurrency - 1) / options.concurrency
    for start in stride(from: 0, to: workers.count, by: perTask) {
        let slice = Array(workers[start..<min(start + perTask, workers.count)])
        group.addTask {
            var count = 0
            for worker in slice {
                for batchStart in stride(from: 1, to: worker.changeSets.count, by: options.batch) {
                    let batch = worker.changeSets[batchStart..<min(batchStart + options.batch, worker.changeSets.count)]
                    let (status, answer) = try await send(client, options.server, worker.key, .POST, "/v1/push",
                                                          body: ["changeSets": .array(batch.map(\.envelopeValue))])
                    guard status == 200 else { throw LoadFailure("push: HTTP \(status) \(String(describing: answer))") }
                    count += accepted(answer)
                }
            }
            return count
        }
    }
    var sum = 0
    for try await count in group { sum += count }
    return sum
} } catch { fail(error) }
let elapsed = clock.now - started
let elapsedSeconds = seconds(elapsed)
let rate = Double(acceptedCount) / elapsedSeconds
let target = Double(cores) * verifyPerSecond / 2
print("accepted \(acceptedCount) of \(total) change-sets in \(String(format: "%.2f", elapsedSeconds)) s")
fflush(nil)
print("ingest:          \(Int(rate)) accepted change-sets/s")
print("libsodium:       \(Int(verifyPerSecond)) Ed25519 verify/s per core, \(cores) cores")
print("target (½ × cores × verify/s): \(Int(target))/s — \(rate >= target ? "met" : "NOT met") (ratio \(String(format: "%.2f", rate / target)))")

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The read figures (see the top of this file).
func read(invite: String) async throws {
    let key = SigningKey.generate()
    let client = HTTPClient.shared
    let (status, answer) = try await send(client, options.server, key, .POST, "/v1/devices",
                                          body: ["enrolment": "invite", "code": .string(invite), "publicKey": .string(Base64.encode(key.publicKey.bytes))])
    guard status == 201 || status == 200 else { throw LoadFailure("enrolment: HTTP \(status) \(String(describing: answer))") }
    // The whole feed.
    var cursor: Int64 = 0
    var entries = 0
    var started = clock.now
    while true {
        let (status, answer) = try await send(client, options.server, key, .GET, "/v1/pull", query: "cursor=\(cursor)&limit=2000", body: nil)
        guard status == 200, let object = answer?.objectValue, let next = object["cursor"]?.integerValue,
              let page = object["entries"]?.arrayValue else { throw LoadFailure("pull: HTTP \(status)") }
        entries += page.count
        cursor = next
        if object["more"]?.boolValue != true { break }
    }
    let pullSeconds = seconds(clock.now - started)
    print("full pull:       \(entries) entries in \(String(format: "%.2f", pullSeconds)) s: \(Int(Double(entries) / pullSeconds)) records/s")
    // The whole snapshot.
    var after: String?
    var records = 0
    started = clock.now
    while true {
        let (status, answer) = try await send(client, options.server, key, .GET, "/v1/snapshot",
                                              query: "limit=5000" + (after.map { "&after=\($0)" } ?? ""), body: nil)
        guard status == 200, let object = answer?.objectValue, let envelope = object["document"]?.objectValue,
              let text = envelope["document"]?.stringValue, let document = Base64.decode(text),
              let content = try? CanonicalDecoder.decode(document, limit: 64 * 1_048_576),
              let page = content.objectValue?["records"]?.arrayValue else { throw LoadFailure("snapshot: HTTP \(status)") }
        records += page.count
        after = object["next"]?.stringValue
        if after == nil { break }
    }
    let snapshotSeconds = seconds(clock.now - started)
    print("full snapshot:   \(records) records in \(String(format: "%.2f", snapshotSeconds)) s: \(Int(Double(records) / snapshotSeconds)) records/s")
    // One exchange of the feed's last 10 entries.
    var times: [Double] = []
    for _ in 0..<max(1, options.repeats) {
        let begun = clock.now
        let (status, answer) = try await send(client, options.server, key, .GET, "/v1/pull", query: "cursor=\(max(0, cursor - 10))", body: nil)
        guard status == 200, answer?.objectValue?["entries"]?.arrayValue?.count == Int(min(cursor, 10)) else { throw LoadFailure("delta: HTTP \(status)") }
        times.append(seconds(clock.now - begun) * 1_000)
    }
    times.sort()
    print("delta exchange:  median \(String(format: "%.2f", times[times.count / 2])) ms, 95th percentile \(String(format: "%.2f", times[min(times.count - 1, times.count * 95 / 100)])) ms (10 changes, \(times.count) requests)")
}
