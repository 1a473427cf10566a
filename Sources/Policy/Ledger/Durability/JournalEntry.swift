/// One charge as the journal records it: everything needed to apply it again after a power loss
/// (the hold itself is volatile and gone by then).
struct JournaledCharge: Equatable {
    var userId: UInt64
    var holdId: UInt64
    var amount: Int64
    var operation: String
    var requestId: String
    var actor: String
}

/// The charges one committed batch made, under that commit's LMDB transaction id and the batch's time.
struct JournalEntry: Equatable {
    var transactionId: UInt64
    var nowMs: Int64
    /// `JournaledCharge`s, encoded (`JournalEntry.encode`): built on the writer thread, written as is.
    var payload: [UInt8]

    /// Appends `charge` to a payload: user u64, hold u64, amount i64, then operation, request id and
    /// actor as 16-bit-length strings.
    static func encode(_ charge: JournaledCharge, into writer: inout ByteWriter) {
        writer.u64(charge.userId)
        writer.u64(charge.holdId)
        writer.i64(charge.amount)
        writer.string16(charge.operation)
        writer.string16(charge.requestId)
        writer.string16(charge.actor)
    }

    /// The charges in `payload`.
    func charges() throws(LedgerError) -> [JournaledCharge] {
        let decoded = payload.withUnsafeBytes { raw in
            Result { () throws(LedgerError) -> [JournaledCharge] in
                var reader = ByteReader(raw, record: "journal entry")
                var charges: [JournaledCharge] = []
                while reader.remaining > 0 {
                    charges.append(JournaledCharge(userId: try reader.u64(), holdId: try reader.u64(), amount: try reader.i64(),
                                                   operation: try reader.string16(), requestId: try reader.string16(), actor: try reader.string16()))
                }
                return charges
            }
        }
        return try decoded.get()
    }
}
