import Foundation
import Testing
@testable import Policy
#if canImport(Glibc)
import Glibc
#endif

/// Several processes on one data directory: the built `edgeproxy` binary races holds, or is killed.
@Suite(.serialized) struct LedgerProcessTests {
    struct StressOutcome: Decodable {
        var charged: Int64
        var holds: Int
        var refused: Int
        var errors: Int
    }

    @Test func twoProcessesRacingNeverOverspendTogether() throws {
        let directory = TemporaryDirectory("race")
        let dataDir = directory.file("data")
        do {
            let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
            let user = try ledger.createUser(email: "shared@example.com", hasher: cheapHasher)
            _ = try ledger.grant(userId: user.id, amount: 1_800, reason: "race", actor: "test")  // 2000 in total
            ledger.close()
        }
        // Each process alone would spend 16 × 40 × 5 = 3200 tokens: together they must stop at 2000.
        // Both start together: each opens the ledger, says "ready", and waits for the go file.
        let go = directory.file("go")
        let arguments = ["ledger", "stress", "--email", "shared@example.com", "--threads", "16", "--attempts", "40", "--amount", "5", "--go-file", go]
        let first = try makeEdgeproxy(arguments, dataDir: dataDir)
        let second = try makeEdgeproxy(arguments, dataDir: dataDir)
        let firstOut = Pipe(), secondOut = Pipe()
        first.standardOutput = firstOut
        second.standardOutput = secondOut
        try first.run()
        try second.run()
        #expect(firstOut.fileHandleForReading.availableLine(timeout: 60) == "ready")
        #expect(secondOut.fileHandleForReading.availableLine(timeout: 60) == "ready")
        #expect(FileManager.default.createFile(atPath: go, contents: Data()))
        let firstData = firstOut.fileHandleForReading.readDataToEndOfFile()
        let secondData = secondOut.fileHandleForReading.readDataToEndOfFile()
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        let a = try JSONDecoder().decode(StressOutcome.self, from: firstData)
        let b = try JSONDecoder().decode(StressOutcome.self, from: secondData)
        #expect(a.errors == 0 && b.errors == 0)
        #expect(a.charged + b.charged == 2_000, "charged \(a.charged) + \(b.charged)")
        #expect(a.holds > 0 && b.holds > 0, "both processes should have won some holds")
        #expect(a.refused + b.refused == 2 * 16 * 40 - 400)

        let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        let user = try #require(try ledger.user(email: "shared@example.com"))
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.balance == 0 && balance.held == 0)
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
        #expect(report.transactions == 2 + 400)
    }

    @Test func aKilledProcessLeavesAConsistentLedgerAndItsHoldsAreReleased() throws {
        let directory = TemporaryDirectory("kill")
        let dataDir = directory.file("data")
        do {
            let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
            _ = try ledger.createUser(email: "victim@example.com", plan: "professional", hasher: cheapHasher)
            ledger.close()
        }
        let child = try makeEdgeproxy(["ledger", "stress", "--email", "victim@example.com", "--threads", "16", "--churn"], dataDir: dataDir)
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        // Wait until it is busy (prints "ready" after 200 operations), let it run on, then kill it mid-batch.
        let ready = output.fileHandleForReading.availableLine(timeout: 30)
        #expect(ready == "ready")
        Thread.sleep(forTimeInterval: 0.3)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        // While the child's registration remains, its holds are visible; opening releases them.
        let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        #expect(ledger.recoveredAtOpen.processes == 1)
        #expect(ledger.recoveredAtOpen.holds > 0, "the churn leaves every third hold open")
        let user = try #require(try ledger.user(email: "victim@example.com"))
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.held == 0)
        let charges = try ledger.history(userId: user.id, limit: 1_000_000).filter { $0.kind == .charge }
        #expect(!charges.isEmpty)
        #expect(balance.balance == 10_000 - Int64(charges.count))
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")

        // The CLI agrees, while this process still has the ledger open.
        let verify = try runEdgeproxy(["ledger", "verify"], dataDir: dataDir)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func aLiveProcesssHoldsAreNeverReleased() throws {
        let directory = TemporaryDirectory("live")
        let dataDir = directory.file("data")
        let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "live@example.com", hasher: cheapHasher)
        let hold = try ledger.hold(userId: user.id, amount: 70, requestId: "in-flight")
        // Another process opens (and verifies) the same directory while this one holds tokens.
        let verify = try runEdgeproxy(["ledger", "verify"], dataDir: dataDir)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("released 0 holds"))
        #expect(try ledger.balance(userId: user.id)?.held == 70)
        _ = try ledger.charge(holdId: hold.holdId, operation: "generative_upscale")
    }
}

extension FileHandle {
    /// The first line written to this pipe, or nil after `timeout` seconds or at end of file.
    func availableLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = Data()
        while Date() < deadline {
            let chunk = availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                return String(decoding: buffer[..<newline], as: UTF8.self)
            }
        }
        return nil
    }
}
