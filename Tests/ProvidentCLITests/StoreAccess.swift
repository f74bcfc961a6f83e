import Foundation
import GRDB
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// Direct access to a CLI device's data folder through the library, for tests that need many
/// changes quickly or the device's chain position.
enum ProvidentStoreAccess {
    static func deviceState(_ cli: CLI) throws -> DeviceState {
        try ReplicaDatabase.open(path: cli.dataDirectory + "/replica.sqlite").deviceState()
    }

    /// Records `count` lump deposits of ¥100 on the device's own account, as the CLI would,
    /// unlocking the key once.
    static func recordLumpDeposits(_ cli: CLI, count: Int) throws {
        let device = try LocalDevice.open(directory: DataDirectory(path: cli.dataDirectory))
        let key = try cli.signingKey()
        for index in 0..<count {
            let now = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000) + Int64(index))
            _ = try device.recordDeposit(DepositRequest(target: .lump, amount: "100", method: .bankTransfer), unlock: { key }, now: now)
        }
    }

    /// Records a lump deposit of ¥`yuan` on `account` as `provident deposit` does, at the time
    /// `now` the device's clock gave.
    static func recordLumpDeposit(_ cli: CLI, account: String, yuan: String, at now: Instant) throws {
        let device = try LocalDevice.open(directory: DataDirectory(path: cli.dataDirectory))
        _ = try device.recordDeposit(DepositRequest(target: .lump, amount: yuan, method: .bankTransfer), accountID: account,
                                     unlock: { try cli.signingKey() }, now: now)
    }

    /// Moves the recording time of the device's change-sets back by `days`, as if they had been
    /// made that long ago (for the policy's retention).
    static func age(_ cli: CLI, sequences: ClosedRange<Int>, days: Int) throws {
        let queue = try DatabaseQueue(path: cli.dataDirectory + "/replica.sqlite")
        try queue.write { db in
            try db.execute(sql: "UPDATE outbox SET recorded_at = ? WHERE sequence BETWEEN ? AND ?",
                           arguments: [Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000) - Int64(days) * 86_400_000).utcISO,
                                       sequences.lowerBound, sequences.upperBound])
        }
        try queue.close()
    }
}
