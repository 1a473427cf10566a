internal import NIOCore
internal import Synchronization

/// What every connection of one stand-in shares: the recordings, the download counter, and the open
/// child channels (so `shutdown()` can close them when the event loop group is not ours to stop).
final class StandInRecorder: Sendable {
    private struct State {
        /// Oldest first; trimmed in batches so recording stays amortised O(1).
        var requests: [StandInRecordedRequest] = []
        var requestCount = 0
        var downloadBytesAccepted = 0
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    private let state = Mutex(State())
    /// How many of the latest requests are kept; 0 keeps none (benchmarks), counting still happens.
    let recordingLimit: Int

    init(recordingLimit: Int) {
        self.recordingLimit = max(0, recordingLimit)
    }

    var requests: [StandInRecordedRequest] {
        state.withLock { Array($0.requests.suffix(recordingLimit)) }
    }

    var requestCount: Int { state.withLock { $0.requestCount } }

    var downloadBytesAccepted: Int { state.withLock { $0.downloadBytesAccepted } }

    func record(_ request: StandInRecordedRequest) {
        let limit = recordingLimit
        state.withLock { state in
            state.requestCount += 1
            guard limit > 0 else { return }
            state.requests.append(request)
            if state.requests.count >= 2 * limit {
                state.requests.removeFirst(state.requests.count - limit)
            }
        }
    }

    func addDownloadBytesAccepted(_ count: Int) {
        state.withLock { $0.downloadBytesAccepted += count }
    }

    func reset() {
        state.withLock { state in
            state.requests.removeAll()
            state.requestCount = 0
            state.downloadBytesAccepted = 0
        }
    }

    /// Tracks an accepted connection until it closes; refuses (closes) it once shutdown began.
    func register(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let accepted = state.withLock { state -> Bool in
            guard !state.isShutDown else { return false }
            state.channels[key] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { _ = $0.channels.removeValue(forKey: key) }
        }
    }

    /// Marks the stand-in shut down and hands over the connections still open. Nil if already shut down.
    func beginShutdown() -> [any Channel]? {
        state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.isShutDown = true
            defer { state.channels.removeAll() }
            return Array(state.channels.values)
        }
    }
}
