import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The disk under the ledger failing mid-flight, end to end: real TLS, a real durable LMDB ledger whose
/// charge journal really stops accepting writes (its descriptor is swapped for a read-only one, so the
/// kernel refuses each `pwrite`), the stand-in Recraft.
@Suite("Ledger faults through the real edge")
struct LedgerFaultTests {
    @Test("A charge whose journal write fails: result withheld, tokens refunded, the fault reported until a write succeeds")
    func undurableChargeIsRefunded() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("disk@example.com", tokens: 20)
            let client = try await edge.client()
            let journal = try JournalDescriptor(ledgerDirectory: edge.ledgerDirectory)
            #expect(edge.ledger.durabilityFault == nil)

            try journal.refuseWrites()
            let failed = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: MeteringTests.bearer(key), body: ByteBuffer(string: "x"))
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.bodyText.contains("ledger_unavailable"), "\(failed.bodyText)")
            #expect(failed.headers["X-Tokens-Charged"].isEmpty)
            #expect(edge.standIn.requestCount == 1)  // Recraft did the work; the client did not get it
            #expect(edge.ledger.durabilityFault?.operation == "write journal")
            // The charge committed (only its durability failed), then the refund: back to 20, nothing held.
            #expect(try await eventually(timeout: .seconds(5)) { try edge.balance(user) == (20, 0) })

            try journal.acceptWrites()
            let charged = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: MeteringTests.bearer(key), body: ByteBuffer(string: "x"))
            #expect(charged.status == .ok)
            #expect(charged.headers["X-Tokens-Charged"].first == "4")
            #expect(charged.headers["X-Tokens-Remaining"].first == "16")
            // The journal wrote again; the next checkpoint succeeds too (within lazySyncInterval).
            #expect(await eventually(timeout: .seconds(5)) { edge.ledger.durabilityFault == nil })

            let history = try edge.ledger.history(userId: user.id, limit: 10)
            #expect(history.map(\.kind) == [.charge, .adjustment, .charge, .grant])
            #expect(history.map(\.delta) == [-4, 4, -4, 20])
            #expect(history[1].actor == "edge")
            #expect(try ledgerIsConsistent(edge.ledger))
            await client.close()
        }
    }

    @Test("A charge that cannot commit (the ledger's map is full): result withheld, the hold released, nothing charged")
    func uncommittedChargeReleasesItsHold() async throws {
        try await withEdge(ledgerMapSizeMiB: 1) { edge in
            let (user, key) = try edge.makeUser("full@example.com", tokens: 20)
            let grants = try fillLedger(edge.ledger, user: user)
            let client = try await edge.client()
            let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: MeteringTests.bearer(key), body: ByteBuffer(string: "x"))
            #expect(response.status == .serviceUnavailable)
            #expect(response.bodyText.contains("map_full"), "\(response.bodyText)")
            #expect(edge.standIn.requestCount == 1)
            // Released, not left reserved: the next request can hold the same tokens again.
            let after = try edge.balance(user)
            let expectedBalance: Int64 = 20 + grants
            #expect(after.balance == expectedBalance)
            #expect(after.held == 0)
            #expect(edge.ledger.durabilityFault == nil)  // nothing committed, so nothing failed to become durable
            await client.close()
        }
    }
}

/// Grants one token at a time until the ledger's map is full (each with a long reason, then without);
/// returns how many were granted.
private func fillLedger(_ ledger: Ledger, user: UserAccount) throws -> Int64 {
    var granted: Int64 = 0
    for reasonLength in [1000, 0] {
        while true {
            let reason = String(repeating: "f", count: max(1, reasonLength))
            do throws(LedgerError) {
                _ = try ledger.grant(userId: user.id, amount: 1, reason: reason, actor: "test")
            } catch {
                guard error.code == .mapFull else { throw error }
                break
            }
            granted += 1
        }
    }
    return granted
}

/// `ledger verify` (blocking; kept out of async contexts).
private func ledgerIsConsistent(_ ledger: Ledger) throws -> Bool { try ledger.verify().isConsistent }

/// This process's charge-journal descriptor, found through `/proc/self/fd`, swapped in place with
/// `dup2`: read-only (every write fails with EBADF, as a dying disk fails them with EIO) and back.
struct JournalDescriptor {
    let descriptor: Int32
    let path: String

    init(ledgerDirectory: String) throws {
        let journalDirectory = (ledgerDirectory as NSString).appendingPathComponent("journal")
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        var found: (Int32, String)?
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                  target.hasPrefix(journalDirectory + "/"), target.hasSuffix(".wal"), let number = Int32(entry) else { continue }
            found = (number, target)
        }
        let (descriptor, path) = try #require(found, "no open journal under \(journalDirectory)")
        self.descriptor = descriptor
        self.path = path
    }

    func refuseWrites() throws { try swap(flags: O_RDONLY) }

    /// Read-write and synchronous again, and locked as the ledger keeps its own journal.
    func acceptWrites() throws {
        try swap(flags: O_RDWR | O_DSYNC)
        #expect(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
    }

    private func swap(flags: Int32) throws {
        let replacement = open(path, flags | O_CLOEXEC)
        try #require(replacement >= 0, "cannot open \(path): errno \(errno)")
        defer { close(replacement) }
        try #require(dup2(replacement, descriptor) == descriptor, "dup2 failed: errno \(errno)")
    }
}
