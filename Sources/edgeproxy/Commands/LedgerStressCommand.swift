import ArgumentParser
import Foundation
import Policy

/// `edgeproxy ledger stress` (hidden): drives holds and charges from many threads of this process, so
/// tests can race several processes on one data directory, or kill one in the middle of its batches.
struct LedgerStressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress", abstract: "Race holds and charges from this process (used by the ledger tests).",
        shouldDisplay: false)

    @OptionGroup var location: LedgerLocation
    @Option(help: "Whose tokens.") var email: String
    @Option(help: "Threads.") var threads = 8
    @Option(help: "Hold attempts per thread (race mode).") var attempts = 100
    @Option(help: "Tokens per hold.") var amount: Int64 = 1
    @Flag(help: "Churn until killed: hold, then charge, release or leave open; prints 'ready' once busy.") var churn = false
    @Flag(name: .customLong("print-charges"), help: "Print 'charged <request id>' for every charge as soon as it completed (crash-recovery tests).")
    var printCharges = false
    @Option(name: .customLong("go-file"), help: "Print 'ready' once the ledger is open, then wait until this file exists before starting.")
    var goFile: String?

    /// The race's outcome, printed as one JSON line.
    struct Outcome: Encodable {
        var charged: Int64 = 0
        var holds = 0
        var refused = 0
        var errors = 0
    }

    /// Totals shared by the stress threads.
    ///
    /// `@unchecked Sendable`: every field is read and written with `lock` held.
    final class Totals: @unchecked Sendable {
        let lock = NSLock()
        var outcome = Outcome()
        var operations = 0
        var announced = false

        func add(_ local: Outcome) {
            lock.lock()
            outcome.charged += local.charged
            outcome.holds += local.holds
            outcome.refused += local.refused
            outcome.errors += local.errors
            lock.unlock()
        }

        /// Counts one operation; true exactly once, when the 200th completes.
        func tick() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            operations += 1
            guard operations >= 200, !announced else { return false }
            announced = true
            return true
        }
    }

    func run() throws {
        try runReporting {
            let (ledger, _) = try location.open()
            defer { ledger.close() }
            let user = try requireUser(ledger, email: email)
            if let goFile {
                FileHandle.standardOutput.write(Data("ready\n".utf8))
                while !FileManager.default.fileExists(atPath: goFile) { Thread.sleep(forTimeInterval: 0.005) }
            }
            let (churn, attempts, amount, printCharges) = (self.churn, self.attempts, self.amount, self.printCharges)
            let totals = Totals()
            let group = DispatchGroup()
            for thread in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    var local = Outcome()
                    var iteration = 0
                    while churn || iteration < attempts {
                        iteration += 1
                        do {
                            let hold = try ledger.hold(userId: user.id, amount: amount, requestId: "stress-\(thread)-\(iteration)")
                            local.holds += 1
                            switch churn ? iteration % 3 : 0 {
                            case 0:
                                local.charged += try ledger.charge(holdId: hold.holdId, operation: "stress").charged
                                if printCharges { FileHandle.standardOutput.write(Data("charged stress-\(thread)-\(iteration)\n".utf8)) }
                            case 1: _ = try ledger.release(holdId: hold.holdId)
                            default: break  // left open: released once this process is gone
                            }
                        } catch let error as LedgerError where error.code == .insufficientTokens {
                            local.refused += 1
                        } catch {
                            local.errors += 1
                        }
                        if churn, totals.tick() { FileHandle.standardOutput.write(Data("ready\n".utf8)) }
                    }
                    totals.add(local)
                }
            }
            group.wait()
            print(try jsonLine(totals.outcome))
        }
    }
}
