import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

#if canImport(Glibc)
import Glibc
#endif

/// The limits on connections, from `server.*` in the configuration.
public struct ConnectionLimits: Sendable, Equatable {
    /// `server.idleTimeoutSeconds`: a connection with no request in progress is closed after
    /// this long. It also bounds a request head that never completes (bytes dribbled in slowly).
    public var idleTimeoutSeconds = 30
    /// `server.requestTimeoutSeconds`: from a request's head to the end of its body. A slow
    /// field link sends 1 MiB in well under this.
    public var requestTimeoutSeconds = 120
    /// `server.maxConnectionsPerAddress`: connections from one remote address held at once;
    /// more are closed as they arrive. Many phones behind one carrier address stay well under it.
    public var maxConnectionsPerAddress = 256
    /// `server.maxConnections`: connections held at once; further ones wait in the listen queue.
    /// 0 means the open-files limit less a reserve for the database and logs.
    public var maxConnections = 0

    public init() {}

    /// The connection cap in force given the process's open-files limit.
    public func effectiveMaxConnections(openFiles: Int) -> Int {
        maxConnections > 0 ? maxConnections : max(64, openFiles - 256)
    }
}

/// The process's open-files limit, raised at start from the soft limit to the hard one so idle
/// connections do not exhaust descriptors the database needs. Returns the soft limit in force.
public enum OpenFiles {
    public static func raiseToHardLimit() -> Int {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? 1 << 20 : Int(clamping: limit.rlim_cur)
        #else
        return 1024
        #endif
    }
}

/// Connections open now, by remote address, shared by every connection's guard.
public final class ConnectionTable: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    private let total = NIOLockedValueBox(0)
    public let perAddress: Int

    public init(perAddress: Int) {
        self.perAddress = perAddress
    }

    /// Counts a new connection from `address`; false (and not counted) when the address already
    /// holds its share.
    func admit(_ address: String) -> Bool {
        let admitted = counts.withLockedValue { counts -> Bool in
            let now = counts[address, default: 0]
            guard now < perAddress else { return false }
            counts[address] = now + 1
            return true
        }
        if admitted { total.withLockedValue { $0 += 1 } }
        return admitted
    }

    func release(_ address: String) {
        counts.withLockedValue { counts in
            let now = counts[address, default: 0]
            counts[address] = now > 1 ? now - 1 : nil
        }
        total.withLockedValue { $0 -= 1 }
    }

    /// Connections open now.
    public var open: Int { total.withLockedValue { $0 } }
}

/// One connection's guard, in the HTTP pipeline: closes a connection from an address that
/// already holds its share, and one whose request (head to end of body) takes longer than the
/// request timeout. Idle connections are closed by Hummingbird's own idle timeout.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let table: ConnectionTable
    private let requestTimeout: TimeAmount
    private let logger: Logger
    private var address: String?
    private var decided = false
    private var deadline: Scheduled<Void>?

    init(table: ConnectionTable, requestTimeout: TimeAmount, logger: Logger) {
        self.table = table
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !decided { admit(context: context) }
        context.fireChannelActive()
    }

    private func admit(context: ChannelHandlerContext) {
        decided = true
        let remote = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard table.admit(remote) else {
            logger.notice("connection refused: too many from one address", metadata: ["limit": .stringConvertible(table.perAddress)])
            context.close(promise: nil)
            return
        }
        address = remote
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let address { table.release(address) }
        address = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = loop.scheduleTask(in: requestTimeout) { [logger] in
                logger.notice("connection closed: the request was not received in time")
                bound.value.close(promise: nil)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
