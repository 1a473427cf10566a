import Foundation

/// What `Ledger.verify()` found: counts, and every invariant violation in words.
public struct LedgerVerification: Sendable {
    public var users = 0
    public var balances = 0
    public var openHolds = 0
    public var transactions = 0
    public var sessions = 0
    public var apiKeys = 0
    /// Holds released first because their processes had died.
    public var releasedDeadHolds = 0
    /// Broken invariants; empty when the ledger is consistent.
    public var violations: [String] = []

    /// True when no invariant is broken.
    public var isConsistent: Bool { violations.isEmpty }
}

extension Ledger {
    /// Checks every invariant on one consistent snapshot, after releasing the holds of dead processes:
    /// - each balance ≥ held ≥ 0 (available never negative), and balance = the sum of the user's
    ///   transactions, each `balanceAfter` being the running sum, sequences gap-free, every entry linked
    ///   to the user's previous one;
    /// - held (in the hold store) = the sum of the user's open holds; every hold belongs to a live
    ///   registered process and has an id below the hold counter; a charged hold may still be in the store
    ///   only while its process lives (the hold writer drops it right after the charge's commit), and does
    ///   not count as held then;
    /// - no hold was charged twice (charge transactions name distinct hold ids);
    /// - users, e-mail index, balances, sessions and API keys reference each other consistently, and every
    ///   plan named is in the catalog.
    @available(*, noasync)
    public func verify() throws(LedgerError) -> LedgerVerification {
        let released = try perform { (batch) throws(LedgerError) in try batch.releaseHolds(ofDeadProcessesAnd: nil).holds }
        // The durable snapshot first: a charge committed after it cannot make the (later) hold-store
        // snapshot look short.
        var report = try environment.read { (txn) throws(LedgerError) in
            try holdStore.environment.read { (holds) throws(LedgerError) in
                try LedgerVerifier(schema: schema, plans: plans, instance: instance, holdStore: holdStore).run(txn, holds: holds)
            }
        }
        report.releasedDeadHolds = released
        return report
    }
}

/// The checks behind `Ledger.verify()`, over one read transaction.
struct LedgerVerifier {
    let schema: LedgerSchema
    let plans: PlanCatalog
    let instance: UInt64
    let holdStore: HoldStore

    func run(_ txn: borrowing LMDBTransaction, holds holdTxn: borrowing LMDBTransaction) throws(LedgerError) -> LedgerVerification {
        var report = LedgerVerification()
        var violations: [String] = []
        func violation(_ text: String) { if violations.count < 1000 { violations.append(text) } }

        var users: [UInt64: UserRecord] = [:]
        try txn.scan(schema.users, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let user = try UserRecord(value)
            if key.bigEndianUInt64 != user.id { violation("user record \(user.id) is stored under another key") }
            users[user.id] = user
            return true
        }
        report.users = users.count
        let nextUser = try schema.counter(MetaKey.nextUser, in: txn)
        var emails = 0
        try txn.scan(schema.emails, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            emails += 1
            let email = String(decoding: key, as: UTF8.self)
            guard value.count == 8, let user = users[value.uint64(at: 0)] else { violation("e-mail \(email) points to no user"); return true }
            if user.email != email { violation("e-mail \(email) points to user \(user.id), whose e-mail is \(user.email)") }
            return true
        }
        for user in users.values {
            if user.id >= nextUser { violation("user \(user.id) is not below the user counter \(nextUser)") }
            if plans.plan(named: user.plan) == nil { violation("user \(user.id) is on plan '\(user.plan)', which the policy does not define") }
        }
        if emails != users.count { violation("\(users.count) users but \(emails) e-mail index entries") }

        // Open holds per user, and their owners.
        var live: Set<UInt64> = [instance]
        try txn.scan(schema.processes, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            if let id = key.bigEndianUInt64, ProcessIdentity.isAlive(try ProcessRecord(value)) { live.insert(id) }
            return true
        }
        let nextHold = try holdStore.nextHoldId(in: holdTxn)
        var holdsInStore: [UInt64: HoldRecord] = [:]
        try holdTxn.scan(holdStore.holds, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let hold = try HoldRecord(value)
            let id = key.bigEndianUInt64 ?? 0
            holdsInStore[id] = hold
            if hold.amount <= 0 { violation("hold \(id) is for \(hold.amount) tokens") }
            if id == 0 || id >= nextHold { violation("hold \(id) is not below the hold counter \(nextHold)") }
            if users[hold.userId] == nil { violation("hold \(id) belongs to missing user \(hold.userId)") }
            if !live.contains(hold.owner) { violation("hold \(id) belongs to process instance \(hold.owner), which is not running") }
            return true
        }
        var storedHeld: [UInt64: Int64] = [:]
        try holdTxn.scan(holdStore.held, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            if let userId = key.bigEndianUInt64, value.count == 8 { storedHeld[userId] = value.int64(at: 0) }
            return true
        }

        // The transaction log, in id order: per-user chains, running sums, settled holds.
        let (histories, chargedHolds) = try checkLog(txn: txn, users: users, report: &report, violation: violation)

        // Held totals: every hold in the store counts toward the store's total; a charged one that is
        // still there (dropped right after the commit) is not held any more for the balance check.
        var storeTotals: [UInt64: Int64] = [:]
        var openHeld: [UInt64: Int64] = [:]
        for (id, hold) in holdsInStore {
            storeTotals[hold.userId, default: 0] += hold.amount
            if chargedHolds.contains(id) { continue }
            openHeld[hold.userId, default: 0] += hold.amount
            report.openHolds += 1
        }
        for userId in Set(storeTotals.keys).union(storedHeld.keys) where storeTotals[userId, default: 0] != storedHeld[userId, default: 0] {
            violation("user \(userId): held is \(storedHeld[userId, default: 0]) but the holds in the store sum to \(storeTotals[userId, default: 0])")
        }

        // Balances against holds and transactions.
        var balanceOwners: Set<UInt64> = []
        try txn.scan(schema.balances, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let userId = key.bigEndianUInt64 ?? 0
            balanceOwners.insert(userId)
            let record = try BalanceRecord(value)
            if users[userId] == nil { violation("balance \(userId) has no user") }
            let held = openHeld[userId, default: 0]
            if record.held != 0 { violation("user \(userId): the durable record stores held \(record.held); since format 2 held lives in the hold store") }
            if record.balance < held { violation("user \(userId): balance \(record.balance) is below held \(held) — available is negative") }
            if record.periodStartMs >= record.periodEndMs { violation("user \(userId): period ends before it starts") }
            if let user = users[userId], user.plan != record.plan { violation("user \(userId): balance plan '\(record.plan)' differs from the user's '\(user.plan)'") }
            let history = histories[userId] ?? History()
            if history.sum != record.balance { violation("user \(userId): balance is \(record.balance) but transactions sum to \(history.sum)") }
            if record.nextSequence != history.nextSequence {
                violation("user \(userId): next sequence is \(record.nextSequence), history ends at \(history.nextSequence - 1)")
            }
            if record.lastTransactionId != history.lastId {
                violation("user \(userId): history starts at transaction \(record.lastTransactionId), the log's newest is \(history.lastId)")
            }
            return true
        }
        report.balances = balanceOwners.count
        for id in users.keys where !balanceOwners.contains(id) { violation("user \(id) has no balance") }
        for id in histories.keys where !balanceOwners.contains(id) { violation("transactions of user \(id), who has no balance") }
        for id in storedHeld.keys where !balanceOwners.contains(id) { violation("the hold store holds tokens of user \(id), who has no balance") }

        try checkCredentials(txn: txn, users: users, report: &report, violation: violation)
        report.violations = violations
        return report
    }

    /// One user's history as the log tells it.
    private struct History {
        var sum: Int64 = 0
        var nextSequence: UInt64 = 1
        var lastId: UInt64 = 0
    }

    /// Reads the whole log once, in id order, checking each user's chain and running sum.
    private func checkLog(txn: borrowing LMDBTransaction, users: [UInt64: UserRecord],
                          report: inout LedgerVerification, violation: (String) -> Void) throws(LedgerError) -> (histories: [UInt64: History], chargedHolds: Set<UInt64>) {
        var histories: [UInt64: History] = [:]
        var chargedHolds: Set<UInt64> = []
        try txn.scan(schema.transactions, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            report.transactions += 1
            guard let id = key.bigEndianUInt64 else { violation("malformed transaction key"); return true }
            let entry = try TransactionRecord.header(value)
            let userId = entry.userId
            if users[userId] == nil { violation("transaction \(id) belongs to missing user \(userId)") }
            let history = histories[userId] ?? History()
            if entry.sequence != history.nextSequence {
                violation("user \(userId): transaction \(entry.sequence) follows \(history.nextSequence - 1) (gap or reorder)")
            }
            if entry.previousId != history.lastId {
                violation("user \(userId): transaction \(id) links to \(entry.previousId), the user's previous is \(history.lastId)")
            }
            let (sum, overflow) = history.sum.addingReportingOverflow(entry.delta)
            if overflow { violation("user \(userId): transaction sum overflows at \(entry.sequence)") }
            if entry.balanceAfter != sum { violation("user \(userId): transaction \(entry.sequence) says balance \(entry.balanceAfter), running sum is \(sum)") }
            if entry.kind == .charge {
                if entry.delta >= 0 { violation("user \(userId): charge \(entry.sequence) has delta \(entry.delta)") }
                if entry.holdId != 0, !chargedHolds.insert(entry.holdId).inserted { violation("hold \(entry.holdId) was charged twice") }
            }
            histories[userId] = History(sum: sum, nextSequence: entry.sequence + 1, lastId: id)
            return true
        }
        return (histories, chargedHolds)
    }

    private func checkCredentials(txn: borrowing LMDBTransaction, users: [UInt64: UserRecord], report: inout LedgerVerification,
                                  violation: (String) -> Void) throws(LedgerError) {
        try txn.scan(schema.sessions, prefix: []) { (_, value) throws(LedgerError) -> Bool in
            report.sessions += 1
            let session = try SessionRecord(value)
            if users[session.userId] == nil { violation("a session belongs to missing user \(session.userId)") }
            return true
        }
        try txn.scan(schema.apiKeys, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            report.apiKeys += 1
            let record = try APIKeyRecord(value)
            if users[record.userId] == nil { violation("API key \(record.keyId) belongs to missing user \(record.userId)") }
            let indexed = try txn.get(schema.keyIds, record.keyId) { $0.elementsEqual(key) }
            if indexed != true { violation("API key \(record.keyId) is missing from the key-id index") }
            if try !txn.contains(schema.userKeys, userKeyPrefix(record.userId) + Array(record.keyId.utf8)) {
                violation("API key \(record.keyId) is missing from its user's key list")
            }
            return true
        }
    }
}
