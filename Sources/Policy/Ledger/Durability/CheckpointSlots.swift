import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process's newest checkpoint: the LMDB snapshot that was fsynced, the copy of the meta page that
/// opens it, the boot it was taken in, and the journal epoch. Kept in the head of the process's
/// journal file (`ChargeJournal`), so it disappears with a clean stop, when its pin does.
struct CheckpointRecord: Equatable {
    /// Increases with every write (picks the newer of the two slots).
    var sequence: UInt64
    /// The synced snapshot (an LMDB transaction id).
    var transactionId: UInt64
    /// Journal blocks of another epoch are ignored (a recovery starts a new one).
    var epoch: UInt64
    /// `/proc/sys/kernel/random/boot_id` when it was written.
    var bootId: String
    /// The meta page head naming `transactionId`.
    var meta: LMDBMetaPage
}

/// The on-disk form of a `CheckpointRecord`: two 512-byte slots written alternately (sequence
/// parity), each with a CRC-32C, so a torn write leaves the other slot readable.
///
/// Slot: magic `EDGECKP1` @0, CRC-32C of bytes 12..<512 @8, sequence @12, transaction id @20,
/// epoch @28, boot id (u8 length + 63 bytes) @36, meta page head (152 bytes) @100.
enum CheckpointSlots {
    static let slotSize = 512
    private static let magic: [UInt8] = Array("EDGECKP1".utf8)

    /// The newer valid record of the two slots at the start of `bytes`, if any.
    static func newest(in bytes: [UInt8]) -> CheckpointRecord? {
        var best: CheckpointRecord?
        for slot in 0..<2 where bytes.count >= (slot + 1) * slotSize {
            if let record = decode(bytes[(slot * slotSize)..<((slot + 1) * slotSize)]), record.sequence > (best?.sequence ?? 0) {
                best = record
            }
        }
        return best
    }

    /// Where `record` goes: the slot its sequence selects.
    static func offset(of record: CheckpointRecord) -> Int { Int(record.sequence % 2) * slotSize }

    static func encode(_ record: CheckpointRecord) -> [UInt8] {
        var slot = [UInt8](repeating: 0, count: slotSize)
        slot.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: magic)
            raw.setUInt64(record.sequence, at: 12)
            raw.setUInt64(record.transactionId, at: 20)
            raw.setUInt64(record.epoch, at: 28)
            raw[36] = UInt8(raw.setString(record.bootId, at: 37, limit: 63))
            UnsafeMutableRawBufferPointer(rebasing: raw[100..<(100 + LMDBMetaPage.size)]).copyBytes(from: record.meta.placed(inSlot: 0))
            raw.setUInt32(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[12...])), at: 8)
        }
        return slot
    }

    static func decode(_ slot: ArraySlice<UInt8>) -> CheckpointRecord? {
        slot.withUnsafeBytes { raw -> CheckpointRecord? in
            guard raw.count == slotSize, raw.prefix(8).elementsEqual(magic),
                  raw.uint32(at: 8) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[12...])),
                  let meta = LMDBMetaPage(raw[100..<(100 + LMDBMetaPage.size)]) else { return nil }
            return CheckpointRecord(sequence: raw.uint64(at: 12), transactionId: raw.uint64(at: 20), epoch: raw.uint64(at: 28),
                                    bootId: raw.string(at: 37, count: min(63, Int(raw[36]))), meta: meta)
        }
    }
}

/// An exclusive `flock` on `<data>/checkpoint.lock`, held while a process opens the ledger: recovery,
/// adopting the live processes' journal epoch, the first checkpoint, clean-up of dead processes' journals.
struct CheckpointLock: ~Copyable {
    private let fd: Int32

    init(directory: String) throws(LedgerError) {
        let file = (directory as NSString).appendingPathComponent("checkpoint.lock")
        // The lock file is never removed, so every process locks the same inode.
        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError(code: .io, operation: "lock checkpoint", message: "cannot open \(file): errno \(errno)") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let failure = errno
                close(fd)
                throw LedgerError(code: .io, operation: "lock checkpoint", message: "cannot lock \(file): errno \(failure)")
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
