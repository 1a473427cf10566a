import ArgumentParser
import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Policy
#if canImport(Glibc)
import Glibc
#endif

/// `edgeproxy ledger bench`: hold+charge pairs per second through the group-commit writer versus one
/// write transaction per mutation, at several numbers of concurrent callers.
///
/// Callers are spread over `--loops` threads that stand in for event loops: a completion (on the writer
/// thread) queues the caller's next step on its loop, the writer wakes each loop once per batch, and the
/// loop submits the next mutations, waking the ledger once for all of them (`wakeLater`, then
/// `wakeDeferred()`) — the same hops the proxy makes. Callers share up to 64 users, so a
/// batch touches many balances.
struct LedgerBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark hold+charge pairs per second: group commit vs one transaction per mutation.")

    @Option(help: "Comma-separated numbers of concurrent callers.") var callers = "1,8,64"
    @Option(help: "Measured seconds per run (after 0.5 s of warm-up).") var seconds = 3.0
    @Option(help: "Comma-separated writer modes: group, single.") var modes = "group,single"
    @Flag(name: .customLong("no-durable"), help: "Report results at commit (no journal write), with a checkpoint every second.") var noDurable = false
    @Option(help: "Threads standing in for event loops.") var loops = 2
    @Option(help: "Users the callers share (default: one per caller, at most 64).") var users: Int?
    @Option(help: "Directory for the throw-away ledgers (default: a new directory under the system temp dir).") var dir: String?
    @Flag(inversion: .prefixedNo, help: "Also time hot-path reader lookups.") var reads = true

    func run() throws {
        try runReporting {
            let callerCounts = callers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
            let modeList = modes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !callerCounts.isEmpty else { throw CommandFailure("--callers needs at least one positive number") }
            guard modeList.allSatisfy({ $0 == "group" || $0 == "single" }) else { throw CommandFailure("--modes takes group and/or single") }
            let base = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("edge-ledger-bench-\(ProcessInfo.processInfo.processIdentifier)")
            defer { if dir == nil { try? FileManager.default.removeItem(atPath: base) } }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            let syncMicros = Self.fdatasyncMicros(directory: base)
            print("ledger bench: durable=\(!noDurable) seconds=\(seconds) loops=\(loops) users=\(users.map(String.init) ?? "min(callers, 64)") dir=\(base); 4 KiB write+fdatasync there: \(Int(syncMicros)) µs")
            print("| writer | callers | pairs/s | mutations/commit | pair p50 µs | pair p99 µs | of which hold p50 µs | commits/s | writer busy | disk writes MB/s |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            var results: [String: Double] = [:]
            for mode in modeList {
                for count in callerCounts {
                    let directory = (base as NSString).appendingPathComponent("\(mode)-\(count)")
                    try? FileManager.default.removeItem(atPath: directory)
                    let result = try LedgerBenchRun(directory: directory, durable: !noDurable, group: mode == "group",
                                                    callers: count, users: max(1, users ?? min(count, 64)), loops: max(1, loops),
                                                    seconds: seconds).run()
                    try? FileManager.default.removeItem(atPath: directory)
                    results["\(mode)-\(count)"] = result.pairsPerSecond
                    let name = mode == "group" ? "group commit" : "one txn per mutation"
                    let disk = result.diskMegabytesPerSecond.map { String(format: "%.0f", $0) } ?? "n/a"
                    print("| \(name) | \(count) | \(Int(result.pairsPerSecond)) | \(String(format: "%.1f", result.mutationsPerCommit)) | \(Int(result.p50Micros)) | \(Int(result.p99Micros)) | \(Int(result.holdP50Micros)) | \(Int(result.commitsPerSecond)) | \(Int(result.writerBusy * 100)) % | \(disk) |")
                }
            }
            if reads {
                let lookups = try LedgerBenchRun.measureReads(directory: (base as NSString).appendingPathComponent("reads"))
                print("reader (one thread, 100 users, 1M lookups each): principal(apiKeyHash:) \(String(format: "%.2f", lookups.principal)) µs, balance(userId:now:) \(String(format: "%.2f", lookups.balance)) µs")
            }
            if modeList.count == 2 {
                for count in callerCounts {
                    if let group = results["group-\(count)"], let single = results["single-\(count)"], single > 0 {
                        print("group commit / one txn per mutation at \(count) callers: \(String(format: "%.1f", group / single))×")
                    }
                }
            }
        }
    }
}

extension LedgerBenchCommand {
    /// Mean microseconds of a 4 KiB `pwrite` + `fdatasync` in `directory`: about what a journal write waits for.
    static func fdatasyncMicros(directory: String) -> Double {
        let path = (directory as NSString).appendingPathComponent("fsync-probe")
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { return 0 }
        defer {
            close(fd)
            unlink(path)
        }
        let page = [UInt8](repeating: 1, count: 4096)
        let rounds = 200
        let start = DispatchTime.now().uptimeNanoseconds
        for round in 0..<rounds {
            _ = page.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t((round % 64) * 4096)) }
            _ = fdatasync(fd)
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds) / 1000
    }
}

/// One measured run of the benchmark.
struct LedgerBenchRun {
    let directory: String
    let durable: Bool
    let group: Bool
    let callers: Int
    let users: Int
    let loops: Int
    let seconds: Double

    struct Result {
        var pairsPerSecond: Double
        var mutationsPerCommit: Double
        var p50Micros: Double
        var p99Micros: Double
        /// Median hold phase (hold submitted → its completion handled and the charge submitted).
        var holdP50Micros: Double
        /// Durable-writer commits per second, and the share of the time it spent in them.
        var commitsPerSecond: Double
        var writerBusy: Double
        /// What the disk holding the ledger wrote meanwhile (all of it: journal, data-file writeback and
        /// anything else), nil where /proc/diskstats does not tell.
        var diskMegabytesPerSecond: Double?
    }

    func run() throws -> Result {
        var settings = LedgerSettings.standard
        settings.durable = durable
        settings.mapSizeMiB = 4096
        // Completions only queue the next step; the writer wakes each loop once per batch (`afterBatch`),
        // as the proxy does with its event loops.
        let registry = BenchLoops()
        // Nanoseconds the durable writer spent in commits, for its busy share.
        let commitTime = NIOLockedValueBox<Int64>(0)
        let ledger = try Ledger.open(directory: directory, settings: settings, plans: .standard,
                                     options: LedgerOptions(maxBatchSize: group ? 4096 : 1, afterBatch: { registry.wakeAll() },
                                                            onCommit: { _, nanoseconds in commitTime.withLockedValue { $0 += nanoseconds } }))
        var users: [UserID] = []
        for index in 0..<self.users {
            let user = try ledger.createUser(email: "bench\(index)@example.com")
            _ = try ledger.grant(userId: user.id, amount: 1 << 50, reason: "bench", actor: "bench")
            users.append(user.id)
        }
        let benchLoops = (0..<loops).map { _ in BenchLoop(ledger: ledger) }
        registry.set(benchLoops)
        for loop in benchLoops { loop.start() }
        for caller in 0..<callers {
            benchLoops[caller % loops].post(BenchLoop.Step(caller: caller, user: users[caller % users.count], holdId: nil), wake: true)
        }
        Thread.sleep(forTimeInterval: 0.5)
        let start = DispatchTime.now().uptimeNanoseconds
        let pairsBefore = benchLoops.reduce(0) { $0 + $1.pairs }
        let statsBefore = ledger.writerStatistics
        let commitNanosBefore = commitTime.withLockedValue { $0 }
        let sectorsBefore = DiskStatistics.sectorsWritten(holding: directory)
        Thread.sleep(forTimeInterval: seconds)
        let sectorsAfter = DiskStatistics.sectorsWritten(holding: directory)
        let commitNanosAfter = commitTime.withLockedValue { $0 }
        let end = DispatchTime.now().uptimeNanoseconds
        let pairsAfter = benchLoops.reduce(0) { $0 + $1.pairs }
        let statsAfter = ledger.writerStatistics
        for loop in benchLoops { loop.stop() }
        ledger.close()
        let measured = benchLoops.flatMap { $0.latencies(from: start, to: end) }
        let latencies = measured.map(\.pair).sorted(), holdPhases = measured.map(\.hold).sorted()
        func percentile(_ p: Double, _ values: [UInt64] = latencies) -> Double {
            values.isEmpty ? 0 : Double(values[min(values.count - 1, Int(Double(values.count) * p))]) / 1000
        }
        let commits = statsAfter.commits - statsBefore.commits
        let elapsed = Double(end - start) / 1e9
        var disk: Double?
        if let sectorsBefore, let sectorsAfter { disk = Double(sectorsAfter &- sectorsBefore) * 512 / 1e6 / elapsed }
        return Result(pairsPerSecond: Double(pairsAfter - pairsBefore) / elapsed,
                      mutationsPerCommit: commits > 0 ? Double(statsAfter.mutations - statsBefore.mutations) / Double(commits) : 0,
                      p50Micros: percentile(0.5), p99Micros: percentile(0.99), holdP50Micros: percentile(0.5, holdPhases),
                      commitsPerSecond: Double(commits) / elapsed, writerBusy: Double(commitNanosAfter - commitNanosBefore) / 1e9 / elapsed,
                      diskMegabytesPerSecond: disk)
    }
}

extension LedgerBenchRun {
    /// Mean microseconds per hot-path lookup through a `LedgerReader`.
    static func measureReads(directory: String) throws -> (principal: Double, balance: Double) {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger.open(directory: directory, settings: .standard, plans: .standard)
        defer { ledger.close() }
        var keys: [(UserID, SHA256Digest)] = []
        for index in 0..<100 {
            let user = try ledger.createUser(email: "reader\(index)@example.com")
            keys.append((user.id, SecretHash.sha256(try ledger.createAPIKey(userId: user.id, name: "bench").key)))
        }
        let reader = try ledger.makeReader()
        let iterations = 1_000_000
        let now = Date()
        var found = 0
        var start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<iterations where try reader.principal(apiKeyHash: keys[index % keys.count].1) != nil { found += 1 }
        let principal = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations) / 1000
        start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<iterations where try reader.balance(userId: keys[index % keys.count].0, now: now) != nil { found += 1 }
        let balance = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations) / 1000
        guard found == 2 * iterations else { throw CommandFailure("reader lookups failed (\(found) of \(2 * iterations) found)") }
        return (principal, balance)
    }
}

/// The bench loops, for the writer's once-per-batch wake-up.
///
/// `@unchecked Sendable`: `loops` is written once under `lock` before any mutation is submitted, and read under it.
final class BenchLoops: @unchecked Sendable {
    private let lock = NSLock()
    private var loops: [BenchLoop] = []

    func set(_ loops: [BenchLoop]) {
        lock.lock()
        self.loops = loops
        lock.unlock()
    }

    func wakeAll() {
        lock.lock()
        let loops = self.loops
        lock.unlock()
        for loop in loops { loop.wakeIfPending() }
    }
}

/// A thread standing in for an event loop: runs callers' next steps as completions post them.
///
/// `@unchecked Sendable`: `queue`, `stopping`, `exited`, `sleeping`, `completedPairs` and `samples` are only
/// touched with `condition` locked; `started` is only touched on the loop thread.
final class BenchLoop: @unchecked Sendable {
    /// A caller's next step: hold (no hold id yet) or charge the hold it got.
    struct Step {
        var caller: Int
        var user: UserID
        var holdId: HoldID?
    }

    let ledger: Ledger
    private let condition = NSCondition()
    private var queue: [Step] = []
    private var stopping = false
    private var exited = false
    private var sleeping = false
    private var completedPairs = 0
    /// (completion time, pair latency, of which until the charge was submitted) in nanoseconds.
    private var samples: [(UInt64, UInt64, UInt64)] = []
    private var started: [Int: UInt64] = [:]
    private var holdPhase: [Int: UInt64] = [:]

    init(ledger: Ledger) { self.ledger = ledger }

    var pairs: Int {
        condition.lock()
        defer { condition.unlock() }
        return completedPairs
    }

    /// Pair latencies (and their hold phases: hold submitted → charge submitted) completed in the window.
    func latencies(from: UInt64, to: UInt64) -> [(pair: UInt64, hold: UInt64)] {
        condition.lock()
        defer { condition.unlock() }
        return samples.filter { $0.0 >= from && $0.0 < to }.map { ($0.1, $0.2) }
    }

    /// Queues a step; wakes the loop only when `wake` (completions leave that to `wakeIfPending`).
    func post(_ step: Step, wake: Bool) {
        condition.lock()
        queue.append(step)
        if wake && sleeping { condition.signal() }
        condition.unlock()
    }

    /// Wakes the loop if steps are queued and it sleeps.
    func wakeIfPending() {
        condition.lock()
        if sleeping && !queue.isEmpty { condition.signal() }
        condition.unlock()
    }

    func start() {
        Thread.detachNewThread { [self] in run() }
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var batch: [Step] = []
        while true {
            condition.lock()
            while queue.isEmpty && !stopping {
                sleeping = true
                condition.wait()
                sleeping = false
            }
            if stopping {
                exited = true
                condition.broadcast()
                condition.unlock()
                return
            }
            swap(&batch, &queue)
            condition.unlock()
            // Like an event loop's tick: queue every step's hold or charge quietly, wake the ledger once.
            for step in batch { perform(step) }
            ledger.wakeDeferred()
            batch.removeAll(keepingCapacity: true)
        }
    }

    private func perform(_ step: Step) {
        let now = DispatchTime.now().uptimeNanoseconds
        if let holdId = step.holdId {
            if let begun = started[step.caller] { holdPhase[step.caller] = now - begun }
            ledger.charge(holdId: holdId, operation: "bench", wakeLater: true) { [self] _ in
                post(Step(caller: step.caller, user: step.user, holdId: nil), wake: false)
            }
            return
        }
        if let begun = started[step.caller] {
            condition.lock()
            completedPairs += 1
            samples.append((now, now - begun, holdPhase[step.caller] ?? 0))
            condition.unlock()
        }
        started[step.caller] = now
        ledger.hold(userId: step.user, amount: 4, requestId: "", wakeLater: true) { [self] result in
            guard case .success(let receipt) = result else { return }
            post(Step(caller: step.caller, user: step.user, holdId: receipt.holdId), wake: false)
        }
    }
}

/// Sectors written by the block device a path lives on, from /proc/diskstats: what the ledger costs the
/// disk (journal writes plus the data file's writeback), beside what it delivers.
enum DiskStatistics {
    static func sectorsWritten(holding path: String) -> UInt64? {
        guard let device = (try? FileManager.default.attributesOfItem(atPath: path))?[.systemNumber] as? NSNumber,
              let table = try? String(contentsOfFile: "/proc/diskstats", encoding: .utf8) else { return nil }
        let number = device.uint64Value  // st_dev, in glibc's encoding
        let major = (number >> 8) & 0xfff, minor = (number & 0xff) | ((number >> 12) & 0xfff00)
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            // major minor name reads merged sectors ms writes merged sectors ...
            guard fields.count > 9, UInt64(fields[0]) == major, UInt64(fields[1]) == minor else { continue }
            return UInt64(fields[9])
        }
        return nil
    }
}
