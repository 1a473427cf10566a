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
    ///   transactions, each `balanceAfter` being the running sum, sequences gap-free;
    /// - held = the sum of the user's open holds; every hold belongs to a live registered process and has
    ///   an id below the hold counter;
    /// - no hold was charged twice (charge transactions name distinct hold ids, none of them still open);
    /// - users, e-mail index, balances, sessions and API keys reference each other consistently, and every
    ///   plan named is in the catalog.
    @available(*, noasync)
    public func verify() throws(LedgerError) -> LedgerVerification {
        let released = try perform { (batch) throws(LedgerError) in try batch.releaseHolds(ofDeadProcessesAnd: nil).holds }
        var report = try environment.read { (txn) throws(LedgerError) in try LedgerVerifier(schema: schema, plans: plans, instance: instance).run(txn) }
        report.releasedDeadHolds = released
        return report
    }
}

/// The checks behind `Ledger.verify()`, over one read transaction.
struct LedgerVerifier {
    let schema: LedgerSchema
    let plans: PlanCatalog
    let instance: UInt64

    func run(_ txn: borrowing LMDBTransaction) throws(LedgerError) -> LedgerVerification {
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
        let nextHold = try schema.counter(MetaKey.nextHold, in: txn)
        var heldByUser: [UInt64: Int64] = [:]
        var openHolds: Set<UInt64> = []
        try txn.scan(schema.holds, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let hold = try HoldRecord(value)
            let id = key.bigEndianUInt64 ?? 0
            openHolds.insert(id)
            if hold.amount <= 0 { violation("hold \(id) is for \(hold.amount) tokens") }
            if id == 0 || id >= nextHold { violation("hold \(id) is not below the hold counter \(nextHold)") }
            if users[hold.userId] == nil { violation("hold \(id) belongs to missing user \(hold.userId)") }
            if !live.contains(hold.owner) { violation("hold \(id) belongs to process instance \(hold.owner), which is not running") }
            heldByUser[hold.userId, default: 0] += hold.amount
            return true
        }
        report.openHolds = openHolds.count

        // Balances against holds and transactions.
        var chargedHolds: Set<UInt64> = []
        var balanceOwners: Set<UInt64> = []
        try txn.scan(schema.balances, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let userId = key.bigEndianUInt64 ?? 0
            balanceOwners.insert(userId)
            let record = try BalanceRecord(value)
            if users[userId] == nil { violation("balance \(userId) has no user") }
            if record.held < 0 { violation("user \(userId): held is negative (\(record.held))") }
            if record.balance < record.held { violation("user \(userId): balance \(record.balance) is below held \(record.held) — available is negative") }
            if record.held != heldByUser[userId, default: 0] {
                violation("user \(userId): held is \(record.held) but open holds sum to \(heldByUser[userId, default: 0])")
            }
            if record.periodStartMs >= record.periodEndMs { violation("user \(userId): period ends before it starts") }
            if let user = users[userId], user.plan != record.plan { violation("user \(userId): balance plan '\(record.plan)' differs from the user's '\(user.plan)'") }
            try checkHistory(userId: userId, record: record, txn: txn, chargedHolds: &chargedHolds, openHolds: openHolds, report: &report, violation: violation)
            return true
        }
        report.balances = balanceOwners.count
        for id in users.keys where !balanceOwners.contains(id) { violation("user \(id) has no balance") }

        try checkCredentials(txn: txn, users: users, report: &report, violation: violation)
        report.violations = violations
        return report
    }

    private func checkHistory(userId: UInt64, record: BalanceRecord, txn: borrowing LMDBTransaction, chargedHolds: inout Set<UInt64>,
                              openHolds: Set<UInt64>, report: inout LedgerVerification, violation: (String) -> Void) throws(LedgerError) {
        var sum: Int64 = 0
        var expected: UInt64 = 1
        try txn.scan(schema.transactions, prefix: TransactionKey.prefix(userId: userId)) { (key, value) throws(LedgerError) -> Bool in
            report.transactions += 1
            guard let key = TransactionKey(key) else { violation("user \(userId): malformed transaction key"); return true }
            let header = try TransactionRecord.header(value)
            if key.sequence != expected { violation("user \(userId): transaction \(key.sequence) follows \(expected - 1) (gap or reorder)") }
            expected = key.sequence + 1
            let (next, overflow) = sum.addingReportingOverflow(header.delta)
            if overflow { violation("user \(userId): transaction sum overflows at \(key.sequence)") }
            sum = next
            if header.balanceAfter != sum { violation("user \(userId): transaction \(key.sequence) says balance \(header.balanceAfter), running sum is \(sum)") }
            if header.kind == .charge {
                if header.delta >= 0 { violation("user \(userId): charge \(key.sequence) has delta \(header.delta)") }
                if !chargedHolds.insert(header.holdId).inserted { violation("hold \(header.holdId) was charged twice") }
                if openHolds.contains(header.holdId) { violation("hold \(header.holdId) is charged yet still open") }
            }
            return true
        }
        if sum != record.balance { violation("user \(userId): balance is \(record.balance) but transactions sum to \(sum)") }
        if record.nextSequence != expected { violation("user \(userId): next sequence is \(record.nextSequence), history ends at \(expected - 1)") }
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
            if try !txn.contains(schema.userKeys, TransactionKey.prefix(userId: record.userId) + Array(record.keyId.utf8)) {
                violation("API key \(record.keyId) is missing from its user's key list")
            }
            return true
        }
    }
}
