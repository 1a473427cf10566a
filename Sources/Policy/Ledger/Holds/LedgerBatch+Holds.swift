/// The durable side of the hold store's bookkeeping, applied inside a batch.
extension LedgerBatch {
    /// Ids a new hold store may issue before its first hold: a fresh store (first open, or first since a
    /// reboot) starts at the durable reservation mark, which moves 2⁴⁰ ids on, so no id is issued twice.
    static let holdIdReservation: UInt64 = 1 << 40

    /// Seeds the hold store's id counter if it has none yet (under the durable write lock, so two
    /// processes opening together reserve distinct ranges).
    mutating func seedHoldIds(in store: HoldStore) throws(LedgerError) {
        let current = try heldView.write { (holds) throws(LedgerError) in try store.nextHoldId(in: holds) }
        guard current == 0 else { return }
        let start = max(try schema.counter(MetaKey.nextHold, in: txn), 1)
        try schema.setCounter(MetaKey.nextHold, start + Self.holdIdReservation, in: txn)
        try heldView.write { (holds) throws(LedgerError) in try store.setNextHoldId(start, in: holds) }
    }
}
