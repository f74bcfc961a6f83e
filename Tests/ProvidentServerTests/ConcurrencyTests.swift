import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

/// Several servers on one database: what one writes, the others and every reader see in one
/// order, with no gap and no position filled after a reader passed it.
@Suite struct ConcurrencyTests {
    @Test(arguments: Backend.allCases)
    func readersNeverPassAPositionThatConcurrentWritersOnTwoServersFillLater(_ backend: Backend) async throws {
        try await withServer(backend) { first in
            let second = try await first.another()
            let servers = [first, second]
            let devices = (0..<8).map { _ in TestDevice(now: { first.clock.now }) }
            var chains: [[SignedChangeSet]] = []
            for (index, device) in devices.enumerated() {
                _ = try await first.core.enrol(device)
                let (account, enroll) = try device.enroll(100 + index)
                var chain = [enroll]
                for _ in 0..<24 { chain.append(try device.deposit(account.id).1) }
                chains.append(chain)
            }
            let total = chains.reduce(0) { $0 + $1.count }
            let reader = Task { () -> (seen: [UInt64], gaps: Int) in
                var seen: [UInt64] = [], gaps = 0, cursor: UInt64 = 0
                while seen.count < total {
                    let after = cursor
                    let page = try await first.core.store.read { try await $0.feed(after: after, scopes: nil, limit: 7) }
                    for entry in page {
                        if entry.position != cursor + 1 { gaps += 1 }
                        cursor = entry.position
                        seen.append(entry.position)
                    }
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
                }
                return (seen, gaps)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, (device, chain)) in zip(devices, chains).enumerated() {
                    group.addTask {
                        // Pushes of five, alternating between the two servers.
                        for (batch, start) in stride(from: 0, to: chain.count, by: 5).enumerated() {
                            let server = servers[(index + batch) % 2]
                            let answers = try await server.core.push(try device.push(Array(chain[start..<min(start + 5, chain.count)]))).answers
                            #expect(answers.allSatisfy { $0.status == .accepted })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let (seen, gaps) = try await reader.value
            #expect(gaps == 0)
            #expect(seen == Array(1...UInt64(total)))
            #expect(try await second.core.feedHead() == UInt64(total))
            await second.close()
        }
    }

    @Test(arguments: Backend.allCases)
    func oneDevicesPushesArrivingAtTwoServersAtOnceMakeOneChain(_ backend: Backend) async throws {
        try await withServer(backend) { first in
            let second = try await first.another()
            let device = TestDevice(now: { first.clock.now })
            _ = try await first.core.enrol(device)
            let (account, enroll) = try device.enroll(200)
            var chain = [enroll]
            for _ in 0..<9 { chain.append(try device.deposit(account.id).1) }
            // The same five to both at once (a retry after a lost answer, say), then overlapping ones.
            for batches in [(Array(chain[0..<5]), Array(chain[0..<5])), (Array(chain[5..<10]), Array(chain[5..<8]))] {
                let requests = (try device.push(batches.0), try device.push(batches.1))
                let cores = (first.core, second.core)
                let a = Task { try await cores.0.push(requests.0) }
                let b = Task { try await cores.1.push(requests.1) }
                let (left, right) = (try await a.value, try await b.value)
                // Each change-set is accepted exactly once, by whichever server judged it first.
                for signed in batches.1 {
                    let answers = (left.answers + right.answers).filter { $0.id == signed.id }
                    #expect(answers.filter { $0.status == .accepted }.count == 1)
                    #expect(answers.allSatisfy { $0.accepted })
                }
            }
            #expect(try await first.core.feedHead() == 10)
            #expect(try await second.core.store.read { try await $0.chainHead(of: device.id) }?.sequence == 10)
            await second.close()
        }
    }
}
